// Owns the pure SMTP client wire helpers: reply-line parsing, EHLO keywords, dot-stuffing.
// Fails by status: malformed or oversized replies give kError; nothing here throws or does I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "routing/outbound_message.h"

namespace sw::routing::wire {

// A bad server cannot make us buffer more than this per reply.
inline constexpr size_t kMaxReplyLine = 4096;  // octets, without CRLF
inline constexpr size_t kMaxReplyLines = 100;

// One reply line, "250-text" or "250 text" or "250" (CR/LF already stripped).
struct ReplyLine {
  int code = 0;
  bool last = false;
  std::string_view text;  // after the separator
};
// False when the line does not start with three digits (1-5, 0-9, 0-9) and a separator.
bool ParseReplyLine(std::string_view line, ReplyLine* out);

// Splits a leading enhanced status code ("5.1.1 rest") off `text`. Returns false (and leaves
// the outputs untouched) when there is none. class must be 2, 4 or 5.
bool SplitEnhanced(std::string_view text, std::string_view* enhanced, std::string_view* rest);

// Extensions announced in an EHLO reply.
struct Extensions {
  bool pipelining = false;
  bool size = false;
  uint64_t max_size = 0;  // 0: no limit announced
  bool eightbitmime = false;
  bool smtputf8 = false;
  bool starttls = false;
  bool enhancedstatuscodes = false;
};
// Reads one EHLO line's text (the first line, the server's name, must not be passed).
void ParseEhloKeyword(std::string_view text, Extensions* ext);

// Accumulates the lines of one (possibly multi-line) reply.
class ReplyBuilder {
 public:
  enum class Status { kMore, kDone, kError };
  // When `ext` is set, every line after the first is also parsed as an EHLO keyword.
  explicit ReplyBuilder(Extensions* ext = nullptr) : ext_(ext) {}
  // Adds one line without its CRLF. kDone: the reply is complete (call Take()).
  // kError: malformed line, code mismatch, too long or too many lines; error() says why.
  Status Add(std::string_view line);
  SmtpReply Take() { return std::move(reply_); }
  const char* error() const { return error_; }

 private:
  Extensions* ext_;
  SmtpReply reply_;
  size_t lines_ = 0;
  const char* error_ = "";
};

// Streams a stored body (CRLF lines, not stuffed) as SMTP DATA content: every line that starts
// with '.' gets one more, a final CRLF is added when missing, then ".\r\n". Copies each body
// byte exactly once, into the caller's chunk buffer.
class DotStuffer {
 public:
  explicit DotStuffer(std::string_view body) : body_(body) {}
  // Appends at most `max_bytes` (at least 8) wire bytes to `out`, plus up to 5 for the final
  // CRLF and ".\r\n". Returns true while more remains; false once ".\r\n" has been appended.
  bool Next(std::string& out, size_t max_bytes);

 private:
  std::string_view body_;
  size_t pos_ = 0;
  bool line_start_ = true;  // the next body byte begins a line
  bool done_ = false;
};

// Convenience for tests and small bodies: the full wire form of `body` (ends with ".\r\n").
std::string DotStuff(std::string_view body);

// "550 5.1.1 text" (for logs and error strings); "no reply: text" when code is 0.
std::string FormatReply(const SmtpReply& r);

// True when `s` contains CR, LF or NUL (not allowed in a command argument).
bool HasLineBreak(std::string_view s);

}  // namespace sw::routing::wire
