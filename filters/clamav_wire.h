// Owns the framing between the gateway and its ClamAV worker processes: one text datagram per
// message on a SOCK_SEQPACKET socket, optionally carrying one file descriptor (SCM_RIGHTS).
// Fails by value: kClosed (peer gone), kTimeout, kError with errno in the text.
#pragma once

#include <string>
#include <string_view>

namespace sw::filters::wire {

// Control (zygote -> gateway): "ready <gen> <sigs>", "slot <gen> <pid>" + fd (the gateway's end
// of a new worker's socket), "loaded <gen> <sigs>", "lost <pid> <how>", "error <reason>".
// Control (gateway -> zygote): "kill <pid>".
// Scan (gateway -> worker): "inline <bytes>\n" followed by the message in the same datagram
// (messages up to kMaxInline), or "scan <bytes>" + a sealed memfd holding a larger message.
// Scan (worker -> gateway): "clean", "virus <name>", "error <reason>".
constexpr size_t kMaxDatagram = 4096;
// Messages up to this size travel inside the request datagram (one copy, no memfd); it fits the
// default unix socket send buffer (net.core.wmem_default, 208 KiB).
constexpr size_t kMaxInline = 128 * 1024;

enum class Io { kOk, kClosed, kTimeout, kError };

// Sends `text` (at most kMaxDatagram bytes) and, when pass_fd >= 0, that descriptor.
Io Send(int fd, const std::string& text, int pass_fd = -1);
// Sends `head` and `payload` as one datagram (at most kMaxDatagram + kMaxInline bytes).
Io SendWithPayload(int fd, const std::string& head, std::string_view payload);
// Receives one datagram of at most `max` bytes (longer: kError); *got_fd is a received
// descriptor (CLOEXEC) or -1. timeout_ms < 0: wait forever. `text`'s capacity is reused.
Io Receive(int fd, std::string* text, int* got_fd, int timeout_ms, size_t max = kMaxDatagram);

// A sealed, read-only memfd holding `data`; -1 with errno on failure.
int SealedMemfd(const char* data, size_t size);

}  // namespace sw::filters::wire
