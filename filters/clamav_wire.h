// Owns the framing between the gateway and its ClamAV worker processes: one text datagram per
// message on a SOCK_SEQPACKET socket, optionally carrying one file descriptor (SCM_RIGHTS).
// Fails by value: kClosed (peer gone), kTimeout, kError with errno in the text.
#pragma once

#include <string>

namespace sw::filters::wire {

// Control (zygote -> gateway): "ready <gen> <sigs>", "slot <gen> <pid>" + fd (the gateway's end
// of a new worker's socket), "loaded <gen> <sigs>", "lost <pid> <how>", "error <reason>".
// Control (gateway -> zygote): "kill <pid>".
// Scan (gateway -> worker): "scan <bytes>" + a sealed memfd holding the message.
// Scan (worker -> gateway): "clean", "virus <name>", "error <reason>".
constexpr size_t kMaxDatagram = 4096;

enum class Io { kOk, kClosed, kTimeout, kError };

// Sends `text` (at most kMaxDatagram bytes) and, when pass_fd >= 0, that descriptor.
Io Send(int fd, const std::string& text, int pass_fd = -1);
// Receives one datagram; *got_fd is a received descriptor (CLOEXEC) or -1. timeout_ms < 0: wait
// forever.
Io Receive(int fd, std::string* text, int* got_fd, int timeout_ms);

// A sealed, read-only memfd holding `data`; -1 with errno on failure.
int SealedMemfd(const char* data, size_t size);

}  // namespace sw::filters::wire
