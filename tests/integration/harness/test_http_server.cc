// Owns the test HTTP receiver: a tiny HTTP/1.1 server (thread per connection, keep-alive)
// recording each request and answering from a status script. Fails by closing the connection.
#include "tests/integration/harness/test_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sw::it {

namespace {

bool SendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool IEquals(const std::string& a, const char* b) { return strcasecmp(a.c_str(), b) == 0; }

// True if the comma-separated `value` lists `token` (case-insensitive): "keep-alive, Close".
bool HasToken(const std::string& value, const char* token) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    std::string item = value.substr(start, comma - start);
    size_t b = item.find_first_not_of(" \t");
    size_t e = item.find_last_not_of(" \t");
    if (b != std::string::npos && IEquals(item.substr(b, e - b + 1), token)) return true;
    start = comma + 1;
  }
  return false;
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

// Parses the header section (request line and header lines, without the blank line).
bool ParseHead(const std::string& head, HttpRecord* rec, std::string* version, std::string* why) {
  size_t eol = head.find("\r\n");
  std::string line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || sp1 == 0 || sp2 == sp1 + 1) {
    *why = "bad request line: " + line;
    return false;
  }
  rec->method = line.substr(0, sp1);
  rec->target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  *version = line.substr(sp2 + 1);
  if (version->rfind("HTTP/1.", 0) != 0) {
    *why = "not HTTP/1.x: " + line;
    return false;
  }
  size_t pos = eol == std::string::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string h = head.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      *why = "bad header line: " + h;
      return false;
    }
    std::string value = h.substr(colon + 1);
    size_t b = value.find_first_not_of(" \t");
    size_t e = value.find_last_not_of(" \t");
    value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
    rec->headers.emplace_back(h.substr(0, colon), std::move(value));
  }
  return true;
}

// Holds an answer for `delay` while watching the connection (input read meanwhile is kept in
// `buf`). False when the peer closed, the connection failed or Stop() began.
bool HoldAnswer(int fd, std::string& buf, Millis delay, const std::atomic<bool>& stopping) {
  auto end = std::chrono::steady_clock::now() + delay;
  char chunk[16 * 1024];
  while (!stopping) {
    auto left = std::chrono::duration_cast<Millis>(end - std::chrono::steady_clock::now());
    if (left <= Millis(0)) return true;
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(std::min<Millis::rep>(left.count(), 100)));
    if (r < 0 && errno != EINTR) return false;
    if (r <= 0) continue;
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    if (buf.size() > TestHttpServer::kMaxHeaderBytes + TestHttpServer::kMaxBodyBytes) return false;
  }
  return false;
}

}  // namespace

std::string HttpRecord::Header(const std::string& name) const {
  for (const auto& [n, v] : headers)
    if (IEquals(n, name.c_str())) return v;
  return "";
}

bool TestHttpServer::Fail(const char* what, std::string* error) {
  if (error) *error = std::string(what) + ": " + strerror(errno);
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
  return false;
}

bool TestHttpServer::Start(uint16_t port, std::string* error) {
  if (running()) return true;
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Fail("socket", error);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);  // may join a ClosedPort
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(port);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    return Fail("bind", error);
  socklen_t len = sizeof sa;
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    return Fail("getsockname", error);
  port_ = ntohs(sa.sin_port);
  return Launch(error);
}

bool TestHttpServer::StartUnix(const std::string& path, std::string* error) {
  if (running()) return true;
  sockaddr_un sa{};
  if (path.size() >= sizeof sa.sun_path) {
    errno = ENAMETOOLONG;
    return Fail("unix socket path", error);
  }
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Fail("socket", error);
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  unlink(path.c_str());
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    return Fail("bind", error);
  port_ = 0;
  return Launch(error);
}

bool TestHttpServer::Launch(std::string* error) {
  if (listen(listen_fd_, 128) != 0) return Fail("listen", error);
  if (pipe2(wake_pipe_, O_CLOEXEC) != 0) return Fail("pipe", error);
  {
    std::lock_guard<std::mutex> lock(mu_);
    accepted_ = 0;
  }
  stopping_ = false;
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return true;
}

void TestHttpServer::Stop() {
  if (!running()) return;
  stopping_ = true;
  char b = 'x';
  ssize_t ignored = write(wake_pipe_[1], &b, 1);
  (void)ignored;
  if (acceptor_.joinable()) acceptor_.join();
  std::list<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : conn_fds_) shutdown(fd, SHUT_RDWR);
    threads.swap(conn_threads_);
  }
  for (auto& t : threads) t.join();
  close(listen_fd_);
  close(wake_pipe_[0]);
  close(wake_pipe_[1]);
  listen_fd_ = -1;
  wake_pipe_[0] = wake_pipe_[1] = -1;
}

std::string TestHttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void TestHttpServer::SetBody(std::string body) {
  std::lock_guard<std::mutex> lock(mu_);
  body_ = std::move(body);
}

void TestHttpServer::RespondWith(std::vector<int> statuses) {
  std::lock_guard<std::mutex> lock(mu_);
  statuses_ = std::move(statuses);
  script_pos_ = 0;
}

void TestHttpServer::SetDelay(Millis delay) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ = delay;
}

void TestHttpServer::AcceptLoop() {
  while (!stopping_) {
    pollfd pfd[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int r = poll(pfd, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (pfd[1].revents & POLLIN)) break;
    if (!(pfd[0].revents & POLLIN)) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      close(fd);
      break;
    }
    ++accepted_;
    conn_fds_.insert(fd);
    conn_threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void TestHttpServer::Error(std::string e) {
  std::lock_guard<std::mutex> lock(mu_);
  errors_.push_back(std::move(e));
}

void TestHttpServer::Serve(int fd) {
  std::string buf;
  while (!stopping_ && ServeOne(fd, buf)) {
  }
  std::lock_guard<std::mutex> lock(mu_);
  conn_fds_.erase(fd);
  close(fd);
}

bool TestHttpServer::ServeOne(int fd, std::string& buf) {
  char chunk[64 * 1024];
  // Appends more input; false on EOF, error or Stop().
  auto read_more = [&]() {
    for (;;) {
      ssize_t n = recv(fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || stopping_) return false;
      buf.append(chunk, static_cast<size_t>(n));
      return true;
    }
  };
  size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (buf.size() > kMaxHeaderBytes) {
      Error("header section over " + std::to_string(kMaxHeaderBytes) + " bytes");
      return false;
    }
    if (!read_more()) return false;  // the client closed (between requests: normal)
  }
  if (head_end + 4 > kMaxHeaderBytes) {
    Error("header section over " + std::to_string(kMaxHeaderBytes) + " bytes");
    return false;
  }
  HttpRecord rec;
  std::string version, why;
  if (!ParseHead(buf.substr(0, head_end), &rec, &version, &why)) {
    Error(why);
    return false;
  }
  if (!rec.Header("Transfer-Encoding").empty()) {
    Error("Transfer-Encoding not supported: " + rec.Header("Transfer-Encoding"));
    return false;
  }
  size_t length = 0;
  std::string cl;
  for (const auto& [n, v] : rec.headers) {
    if (!IEquals(n, "Content-Length")) continue;
    if (!cl.empty() && v != cl) {
      Error("conflicting Content-Length headers");
      return false;
    }
    cl = v;
  }
  if (!cl.empty()) {
    if (cl.size() > 12 || cl.find_first_not_of("0123456789") != std::string::npos) {
      Error("bad Content-Length: " + cl);
      return false;
    }
    length = std::stoull(cl);
    if (length > kMaxBodyBytes) {
      Error("body over " + std::to_string(kMaxBodyBytes) + " bytes: " + cl);
      return false;
    }
  }
  size_t start = head_end + 4;
  while (buf.size() - start < length) {
    if (!read_more()) {
      Error("connection lost in the body");
      return false;
    }
  }
  rec.body = buf.substr(start, length);
  buf.erase(0, start + length);
  std::string connection = rec.Header("Connection");
  bool close_after = HasToken(connection, "close") ||
                     (version == "HTTP/1.0" && !HasToken(connection, "keep-alive"));

  int status = 200;
  Millis delay;
  std::string body;
  {
    std::lock_guard<std::mutex> lock(mu_);
    body = body_;
    if (!statuses_.empty()) status = statuses_[std::min(script_pos_, statuses_.size() - 1)];
    ++script_pos_;
    delay = delay_;
    requests_.push_back(std::move(rec));
    cv_.notify_all();
  }
  if (delay > Millis(0) && !HoldAnswer(fd, buf, delay, stopping_)) return false;
  bool bodyless = status == 204 || status == 304 || (status >= 100 && status < 200);
  std::string resp = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) + "\r\n";
  if (!bodyless) {
    resp +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (close_after) resp += "Connection: close\r\n";
  resp += "\r\n";
  if (!bodyless) resp += body;
  {
    std::lock_guard<std::mutex> lock(mu_);  // before the write: the client may look at once
    ++answered_[status];
  }
  if (!SendAll(fd, resp)) {
    std::lock_guard<std::mutex> lock(mu_);
    --answered_[status];
    return false;
  }
  return !close_after;
}

std::vector<HttpRecord> TestHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t TestHttpServer::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

size_t TestHttpServer::answered_with(int status) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = answered_.find(status);
  return it == answered_.end() ? 0 : it->second;
}

size_t TestHttpServer::connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

size_t TestHttpServer::open_connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return conn_fds_.size();
}

std::vector<std::string> TestHttpServer::errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

bool TestHttpServer::WaitForCount(size_t n, Millis timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

std::optional<HttpRecord> TestHttpServer::WaitForRequestContaining(const std::string& needle,
                                                                   Millis timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  std::optional<HttpRecord> found;
  cv_.wait_for(lock, timeout, [&] {
    for (const auto& r : requests_)
      if (r.body.find(needle) != std::string::npos) {
        found = r;
        return true;
      }
    return false;
  });
  return found;
}

}  // namespace sw::it
