// Owns the test-side SMTP clients: a raw byte-exact client (for pipelining, smuggling, limits)
// and a swaks runner. Fails by return value: nullopt / false plus error(), never blocks forever.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/integration/harness/process.h"

namespace sw::it {

// One SMTP reply, possibly multi-line.
struct Reply {
  int code = 0;
  std::vector<std::string> lines;  // full lines without CRLF, e.g. "250-PIPELINING"
  bool bare_lf = false;            // some line ended in LF without CR
  std::string last() const { return lines.empty() ? "" : lines.back(); }
  std::string text() const;  // all lines joined with '\n'
};
std::ostream& operator<<(std::ostream& os, const Reply& r);

class SmtpClient {
 public:
  SmtpClient() = default;
  ~SmtpClient() { Close(); }
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  bool Connect(uint16_t port, Millis timeout = 5s);
  // Connects and reads the greeting; false unless it is a 220.
  bool Open(uint16_t port, Millis timeout = 5s);
  // Sends exactly these bytes (one write as far as the kernel allows).
  bool Send(std::string_view bytes);
  std::optional<Reply> ReadReply(Millis timeout = 10s);
  // Sends `line` + CRLF and reads one reply.
  std::optional<Reply> Command(std::string_view line, Millis timeout = 10s);
  // True once the peer closed the connection (EOF or reset) within `timeout`; replies that
  // arrive meanwhile are kept for ReadReply.
  bool WaitClosed(Millis timeout);
  void Close();
  bool connected() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }

 private:
  bool ReadSome(Millis timeout);  // appends to in_; false on timeout, EOF or error

  int fd_ = -1;
  bool eof_ = false;
  std::string in_;
  std::string error_;
};

// Result of a whole transaction sent by SendMessage().
struct SendResult {
  bool accepted = false;       // 250 after the data
  std::string queue_id;        // from "250 2.0.0 Ok: queued as <ID>"
  std::vector<Reply> replies;  // every reply read, in order (greeting first)
  std::string error;           // what went wrong when !accepted
};

struct Envelope {
  std::string from;             // without brackets
  std::vector<std::string> to;  // without brackets
  std::string mail_params;      // e.g. " SMTPUTF8" (leading space)
  std::string helo = "client.test";
};

// Greeting, EHLO, MAIL, RCPT..., DATA, dot-stuffed `data` (CRLF lines, ends with CRLF), ".",
// QUIT. Stops at the first unexpected reply (RCPT rejections are fine if one was accepted).
SendResult SendMessage(uint16_t port, const Envelope& env, const std::string& data,
                       Millis timeout = 20s);

// "250 2.0.0 Ok: queued as 0123456789ABCDEF" -> the ID; "" otherwise.
std::string QueueIdFromReply(const Reply& r);

struct SwaksResult {
  std::optional<ExitStatus> status;  // nullopt: did not run or timed out
  std::string output;                // swaks' transcript (stdout and stderr)
  std::string queue_id;              // from the transcript, if the message was queued
};
// Runs `swaks --server 127.0.0.1:PORT <args...>` with output captured in `work_dir`.
SwaksResult RunSwaks(uint16_t port, const std::vector<std::string>& args,
                     const std::string& work_dir, Millis timeout = 30s);

}  // namespace sw::it
