// Owns the confinement of a ClamAV worker process: rlimits, no new privileges, a seccomp filter
// that refuses networking, program execution, process creation and debugging syscalls.
// Fails by value: false + the reason; the worker then exits rather than scan unconfined.
#pragma once

#include <cstdint>
#include <string>

namespace sw::filters {

struct SandboxLimits {
  uint64_t memory = 0;       // RLIMIT_AS in bytes (0: unlimited; never set under ASan)
  uint64_t file_size = 0;    // RLIMIT_FSIZE for libclamav's temp files (0: unlimited)
  uint64_t open_files = 64;  // RLIMIT_NOFILE
};

// Applies everything to the calling (single-threaded) process. Irreversible.
bool EnterWorkerSandbox(const SandboxLimits& limits, std::string* error);

}  // namespace sw::filters
