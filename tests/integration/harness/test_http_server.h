// Owns the test HTTP receiver: a tiny HTTP/1.1 server (thread per connection, keep-alive)
// recording each request and answering from a status script. Fails by closing the connection.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/harness/process.h"

namespace sw::it {

struct HttpRecord {
  std::string method;  // "POST", "GET", ...
  std::string target;  // request target as sent ("/hook?x=1")
  std::string body;    // Content-Length bytes ("" without one)
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
  // The first header named `name` (case-insensitive), "" when absent.
  std::string Header(const std::string& name) const;
};

class TestHttpServer {
 public:
  // Limits: a larger header section or body closes the connection unanswered.
  static constexpr size_t kMaxHeaderBytes = 64 * 1024;
  static constexpr size_t kMaxBodyBytes = 16 * 1024 * 1024;

  TestHttpServer() = default;
  ~TestHttpServer() { Stop(); }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  // Listens on 127.0.0.1:`port` (0: any free port). Recorded requests survive Stop/Start.
  bool Start(uint16_t port = 0, std::string* error = nullptr);
  // Listens on the unix socket `path` (an old file there is removed) instead; url() then is
  // meaningless: send to any http:// URL with the socket path set.
  bool StartUnix(const std::string& path, std::string* error = nullptr);
  // Closes the listener and every connection (a delayed answer is dropped), joins all threads.
  void Stop();
  bool running() const { return listen_fd_ >= 0; }
  uint16_t port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:<port>"

  // The Nth request from now gets statuses[N]; past the end the last one repeats; an empty
  // list (the default) answers 200. Every answer's body is {"ok":true} (application/json) or
  // SetBody's, none for 204 and 304.
  void RespondWith(std::vector<int> statuses);
  // Every later answer's body (the default: {"ok":true}).
  void SetBody(std::string body);
  // Holds every answer this long after the request was read (recorded at once); when the
  // client closes the connection meanwhile, the answer is dropped.
  void SetDelay(Millis delay);

  std::vector<HttpRecord> requests() const;
  size_t count() const;
  // Answers given with `status` (counted before the client can read them; a held answer
  // dropped because the client left or Stop() began, or a failed write, is not counted).
  size_t answered_with(int status) const;
  size_t connections() const;               // accepted since Start
  size_t open_connections() const;          // open now
  std::vector<std::string> errors() const;  // why connections were closed unanswered
  // Waits until at least `n` requests were recorded.
  bool WaitForCount(size_t n, Millis timeout) const;
  // Waits for a request whose body contains `needle`; returns the first such.
  std::optional<HttpRecord> WaitForRequestContaining(const std::string& needle,
                                                     Millis timeout) const;

 private:
  bool Fail(const char* what, std::string* error);  // closes the listener, says why
  bool Launch(std::string* error);                  // listen, then the accept thread
  void AcceptLoop();
  void Serve(int fd);
  // Reads, records and answers one request; false when the connection is to be closed.
  bool ServeOne(int fd, std::string& buf);
  void Error(std::string e);

  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;  // a request was recorded
  std::vector<HttpRecord> requests_;
  std::vector<std::string> errors_;
  std::vector<int> statuses_;
  size_t script_pos_ = 0;  // requests answered from `statuses_` so far
  Millis delay_{0};
  std::string body_ = R"({"ok":true})";
  std::map<int, size_t> answered_;
  size_t accepted_ = 0;
  std::set<int> conn_fds_;
  std::list<std::thread> conn_threads_;
};

}  // namespace sw::it
