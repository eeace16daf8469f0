// Owns the test sink: a tiny SMTP server (thread per connection) recording each transaction's
// envelope and raw DATA bytes. Fails by recording: protocol oddities go to errors(), never abort.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/process.h"

namespace sw::it {

struct SinkMessage {
  std::string helo;                  // argument of the last EHLO/HELO
  std::string mail_from;             // address between the angle brackets
  std::string mail_params;           // text after '>' (e.g. " BODY=8BITMIME SMTPUTF8")
  std::vector<std::string> rcpt_to;  // addresses between the angle brackets
  std::string raw;   // DATA bytes exactly as on the wire, up to and including the CRLF before "."
  std::string data;  // `raw` with the transparency dots removed (RFC 5321 4.5.2)
};

// Per-recipient answer the sink gives; default: accept everything.
using RcptPolicy = std::function<std::string(const std::string& address)>;  // "" = 250

class TestSmtpServer {
 public:
  TestSmtpServer() = default;
  ~TestSmtpServer() { Stop(); }
  TestSmtpServer(const TestSmtpServer&) = delete;
  TestSmtpServer& operator=(const TestSmtpServer&) = delete;

  // Listens on 127.0.0.1:`port` (0: any free port). Recorded messages survive Stop/Start.
  bool Start(uint16_t port = 0, std::string* error = nullptr);
  // Closes the listener and every connection, joins all threads.
  void Stop();
  bool running() const { return listen_fd_ >= 0; }
  uint16_t port() const { return port_; }
  void set_rcpt_policy(RcptPolicy p);

  std::vector<SinkMessage> Messages() const;
  size_t count() const;
  std::vector<std::string> errors() const;  // protocol oddities seen (bare LF in commands, ...)
  // The most connections that were open at once since Start.
  size_t max_open_connections() const;
  // Waits until at least `n` messages were recorded.
  bool WaitForCount(size_t n, Millis timeout) const;
  // Waits for a message whose unstuffed data contains `needle`; returns the first such.
  std::optional<SinkMessage> WaitForMessageContaining(const std::string& needle,
                                                      Millis timeout) const;
  std::vector<SinkMessage> MessagesContaining(const std::string& needle) const;

 private:
  void AcceptLoop();
  void Serve(int fd);
  // The reply to "RCPT TO:..." (the rcpt policy's, or 250 and the address added to `txn`).
  std::string RcptReply(const std::string& line, bool in_mail, SinkMessage* txn);
  void Record(SinkMessage m);
  void Error(std::string e);

  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  size_t max_open_ = 0;
  mutable std::condition_variable cv_;
  std::vector<SinkMessage> messages_;
  std::vector<std::string> errors_;
  std::set<int> conn_fds_;
  std::list<std::thread> conn_threads_;
  RcptPolicy rcpt_policy_;
};

// RFC 5321 4.5.2 transparency, both ways, on CRLF-delimited lines.
std::string DotStuff(const std::string& data);
std::string DotUnstuff(const std::string& raw);
// True if `s` holds a LF not preceded by CR.
bool HasBareLf(const std::string& s);
// True if `s` holds a CR not followed by LF.
bool HasBareCr(const std::string& s);

}  // namespace sw::it
