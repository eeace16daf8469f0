// Owns `spamweeder clamav-worker`: the process the gateway starts for sandboxed ClamAV scanning.
// Fails by exit status: 2 on bad arguments or an unloadable database (reported first on fd 3).
#pragma once

#include <string>
#include <vector>

namespace sw::filters {

// Runs the worker supervisor on control socket fd 3 (SOCK_SEQPACKET, see clamav_wire.h): loads
// the database once, forks `--workers` sandboxed scanner processes that share it copy-on-write,
// hands each one's socket to the gateway, replaces those that die, reloads a changed database
// and forks a new generation. Ends when the gateway closes the control socket (or dies).
// args: --database D --temp-dir T --reload-interval-ms N --workers N --memory BYTES
int ClamavWorkerMain(const std::vector<std::string>& args);

}  // namespace sw::filters
