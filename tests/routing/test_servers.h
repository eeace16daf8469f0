// Owns the routing tests' loopback peers: a managed smtp-sink process and a scripted SMTP server.
// Fails loudly: setup problems are gtest failures; every process and thread is stopped on
// destruction.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sw::routing::testing {

// A port on 127.0.0.1 that was free a moment ago (bind :0, read it, close).
uint16_t FreePort();

// Waits until something accepts on 127.0.0.1:port (or the timeout passes).
bool WaitForListener(uint16_t port, int timeout_ms = 5000);

// Runs /usr/sbin/smtp-sink on 127.0.0.1:port; kill + waitpid on destruction.
class SmtpSink {
 public:
  // `dump_dir` non-empty: each message is written to DUMP_DIR/msg.<hex> (-d).
  SmtpSink(uint16_t port, std::string dump_dir = "", std::vector<std::string> extra_args = {});
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;
  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  void Stop();

 private:
  int pid_ = -1;
  uint16_t port_;
};

// Contents of the files smtp-sink dumped into `dir`, sorted; waits up to `timeout_ms` for
// `count` complete files.
std::vector<std::string> ReadDumps(const std::string& dir, size_t count, int timeout_ms = 3000);

// A temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Self-signed certificate (CN=localhost) and key in a server SSL_CTX.
std::shared_ptr<SSL_CTX> MakeSelfSignedServerContext();

// A small SMTP server in threads (one per connection) on 127.0.0.1, following a script.
struct Script {
  std::string greeting = "220 scripted ESMTP\r\n";
  bool silent = false;  // accept, then never say anything
  std::vector<std::string> extensions = {"PIPELINING", "8BITMIME", "SIZE 100000000"};
  bool reject_ehlo = false;  // 502 to EHLO (HELO works)
  std::string mail_reply = "250 2.1.0 Ok\r\n";
  // RCPT reply for an address (without <>); default "250 2.1.5 Ok".
  std::function<std::string(const std::string&)> rcpt_reply;
  std::string data_reply = "354 End data with <CR><LF>.<CR><LF>\r\n";
  std::string end_reply = "250 2.0.0 Ok: queued\r\n";
  bool drop_during_data = false;     // close the connection after the first body bytes
  bool close_after_message = false;  // close (after the end reply) once a message is taken
  int end_delay_ms = 0;              // wait before the end-of-data reply
  std::shared_ptr<SSL_CTX> tls;      // offer STARTTLS with this context
};

class ScriptedServer {
 public:
  explicit ScriptedServer(Script script);
  ~ScriptedServer();
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }
  int max_concurrent() const { return max_concurrent_.load(); }
  std::vector<std::string> commands() const;  // every command line, in arrival order
  std::vector<std::string> messages() const;  // raw DATA wire bytes, ".\r\n" included
  // Per MAIL: were the RCPTs and DATA already received together with it (pipelined)?
  std::vector<bool> mail_pipelined() const;
  int CountCommand(const std::string& verb) const;  // e.g. "MAIL", "QUIT"

 private:
  struct Peer;
  void AcceptLoop();
  void Serve(int fd);

  Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> active_{0};
  std::atomic<int> max_concurrent_{0};
  mutable std::mutex mu_;
  std::vector<std::string> commands_;
  std::vector<std::string> messages_;
  std::vector<bool> mail_pipelined_;
  std::vector<int> open_fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace sw::routing::testing
