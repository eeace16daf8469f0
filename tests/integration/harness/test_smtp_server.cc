// Owns the test sink: a tiny SMTP server (thread per connection) recording each transaction's
// envelope and raw DATA bytes. Fails by recording: protocol oddities go to errors(), never abort.
#include "tests/integration/harness/test_smtp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
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

bool IStartsWith(const std::string& s, const char* prefix) {
  size_t n = strlen(prefix);
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::toupper(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

// "<addr> params" -> addr, params. False without brackets.
bool SplitPath(const std::string& arg, std::string* addr, std::string* params) {
  size_t lt = arg.find('<');
  size_t gt = arg.find('>', lt == std::string::npos ? 0 : lt);
  if (lt == std::string::npos || gt == std::string::npos) return false;
  *addr = arg.substr(lt + 1, gt - lt - 1);
  *params = arg.substr(gt + 1);
  return true;
}

}  // namespace

std::string DotStuff(const std::string& data) {
  std::string out;
  out.reserve(data.size() + data.size() / 50 + 8);
  bool line_start = true;
  for (size_t i = 0; i < data.size(); ++i) {
    if (line_start && data[i] == '.') out.push_back('.');
    out.push_back(data[i]);
    line_start = data[i] == '\n' && i > 0 && data[i - 1] == '\r';
  }
  return out;
}

std::string DotUnstuff(const std::string& raw) {
  std::string out;
  out.reserve(raw.size());
  bool line_start = true;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (!(line_start && raw[i] == '.')) out.push_back(raw[i]);
    line_start = raw[i] == '\n' && i > 0 && raw[i - 1] == '\r';
  }
  return out;
}

bool HasBareLf(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return true;
  return false;
}

bool HasBareCr(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return true;
  return false;
}

bool TestSmtpServer::Start(uint16_t port, std::string* error) {
  auto fail = [&](const char* what) {
    if (error) *error = std::string(what) + ": " + strerror(errno);
    if (listen_fd_ >= 0) close(listen_fd_);
    listen_fd_ = -1;
    return false;
  };
  if (running()) return true;
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return fail("socket");
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);  // may join a ClosedPort
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(port);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return fail("bind");
  if (listen(listen_fd_, 128) != 0) return fail("listen");
  socklen_t len = sizeof sa;
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    return fail("getsockname");
  port_ = ntohs(sa.sin_port);
  if (pipe2(wake_pipe_, O_CLOEXEC) != 0) return fail("pipe");
  stopping_ = false;
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return true;
}

void TestSmtpServer::Stop() {
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

void TestSmtpServer::set_rcpt_policy(RcptPolicy p) {
  std::lock_guard<std::mutex> lock(mu_);
  rcpt_policy_ = std::move(p);
}

void TestSmtpServer::AcceptLoop() {
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
    conn_fds_.insert(fd);
    max_open_ = std::max(max_open_, conn_fds_.size());
    conn_threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void TestSmtpServer::Record(SinkMessage m) {
  std::lock_guard<std::mutex> lock(mu_);
  messages_.push_back(std::move(m));
  cv_.notify_all();
}

void TestSmtpServer::Error(std::string e) {
  std::lock_guard<std::mutex> lock(mu_);
  errors_.push_back(std::move(e));
}

namespace {

// One connection's input: lines and DATA sections, read as needed.
struct SinkInput {
  SinkInput(int f, const std::atomic<bool>* s) : fd(f), stopping(s) {}

  int fd;
  const std::atomic<bool>* stopping;
  std::string buf;
  size_t pos = 0;  // start of unconsumed input in buf

  // Appends more input; false on EOF, error or Stop().
  bool ReadMore() {
    if (pos > 0 && pos == buf.size()) {
      buf.clear();
      pos = 0;
    }
    char chunk[64 * 1024];
    for (;;) {
      ssize_t n = recv(fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || *stopping) return false;
      buf.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  // The next line without its LF; false on EOF. `bare_lf`: it did not end in CRLF.
  bool NextLine(std::string* line, bool* bare_lf) {
    size_t nl;
    while ((nl = buf.find('\n', pos)) == std::string::npos)
      if (!ReadMore()) return false;
    *line = buf.substr(pos, nl - pos);
    pos = nl + 1;
    *bare_lf = line->empty() || line->back() != '\r';
    if (!*bare_lf) line->pop_back();
    return true;
  }

  // The data up to CRLF.CRLF (the CRLF before the dot belongs to the message); false when the
  // connection ends first.
  bool ReadData(std::string* raw) {
    size_t scan = pos;
    for (;;) {
      if (buf.size() - pos >= 3 && buf.compare(pos, 3, ".\r\n") == 0) {
        pos += 3;
        return true;
      }
      size_t end = buf.find("\r\n.\r\n", scan);
      if (end != std::string::npos) {
        *raw = buf.substr(pos, end + 2 - pos);
        pos = end + 5;
        return true;
      }
      scan = buf.size() >= 4 && buf.size() - 4 > pos ? buf.size() - 4 : pos;
      // ReadMore() may drop consumed input; keep offsets valid by compacting first.
      if (pos > 0) {
        buf.erase(0, pos);
        scan -= pos;
        pos = 0;
      }
      if (!ReadMore()) return false;
    }
  }
};

}  // namespace

std::string TestSmtpServer::RcptReply(const std::string& line, bool in_mail, SinkMessage* txn) {
  std::string addr, params;
  if (!in_mail) return "503 5.5.1 Need MAIL\r\n";
  if (!SplitPath(line.substr(8), &addr, &params)) return "501 5.5.4 Syntax\r\n";
  std::string policy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (rcpt_policy_) policy = rcpt_policy_(addr);
  }
  if (!policy.empty()) return policy + "\r\n";
  txn->rcpt_to.push_back(addr);
  return "250 2.1.5 Ok\r\n";
}

void TestSmtpServer::Serve(int fd) {
  SinkInput in(fd, &stopping_);
  SinkMessage txn;
  bool in_mail = false;
  std::string helo, line;
  bool ok = SendAll(fd, "220 sink.test ESMTP test sink\r\n");
  bool bare_lf = false;
  while (ok && in.NextLine(&line, &bare_lf)) {
    if (bare_lf) Error("command line ends in bare LF: " + line);
    std::string reply;
    if (IStartsWith(line, "EHLO ")) {
      helo = line.substr(5);
      in_mail = false;
      reply =
          "250-sink.test\r\n250-PIPELINING\r\n250-SIZE 104857600\r\n250-8BITMIME\r\n"
          "250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES\r\n";
    } else if (IStartsWith(line, "HELO ")) {
      helo = line.substr(5);
      in_mail = false;
      reply = "250 sink.test\r\n";
    } else if (IStartsWith(line, "MAIL FROM:")) {
      txn = SinkMessage{};
      txn.helo = helo;
      bool parsed = SplitPath(line.substr(10), &txn.mail_from, &txn.mail_params);
      in_mail = in_mail || parsed;
      reply = parsed ? "250 2.1.0 Ok\r\n" : "501 5.5.4 Syntax\r\n";
    } else if (IStartsWith(line, "RCPT TO:")) {
      reply = RcptReply(line, in_mail, &txn);
    } else if (IStartsWith(line, "DATA") && line.size() == 4) {
      if (!in_mail || txn.rcpt_to.empty()) {
        ok = SendAll(fd, "554 5.5.1 No valid recipients\r\n");
        continue;
      }
      if (!SendAll(fd, "354 go ahead\r\n")) break;
      std::string raw;
      if (!in.ReadData(&raw)) {
        Error("connection lost in DATA");
        break;
      }
      txn.raw = std::move(raw);
      txn.data = DotUnstuff(txn.raw);
      Record(std::move(txn));
      txn = SinkMessage{};
      in_mail = false;
      reply = "250 2.0.0 Ok: queued by sink\r\n";
    } else if (IStartsWith(line, "RSET") && line.size() == 4) {
      in_mail = false;
      reply = "250 2.0.0 Ok\r\n";
    } else if (IStartsWith(line, "NOOP")) {
      reply = "250 2.0.0 Ok\r\n";
    } else if (IStartsWith(line, "QUIT") && line.size() == 4) {
      SendAll(fd, "221 2.0.0 Bye\r\n");
      break;
    } else {
      Error("unknown command: " + line);
      reply = "500 5.5.1 Unknown command\r\n";
    }
    ok = SendAll(fd, reply);
  }
  std::lock_guard<std::mutex> lock(mu_);
  conn_fds_.erase(fd);
  close(fd);
}

size_t TestSmtpServer::max_open_connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_open_;
}

std::vector<SinkMessage> TestSmtpServer::Messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

size_t TestSmtpServer::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_.size();
}

std::vector<std::string> TestSmtpServer::errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

bool TestSmtpServer::WaitForCount(size_t n, Millis timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return messages_.size() >= n; });
}

std::optional<SinkMessage> TestSmtpServer::WaitForMessageContaining(const std::string& needle,
                                                                    Millis timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  std::optional<SinkMessage> found;
  cv_.wait_for(lock, timeout, [&] {
    for (const auto& m : messages_)
      if (m.data.find(needle) != std::string::npos) {
        found = m;
        return true;
      }
    return false;
  });
  return found;
}

std::vector<SinkMessage> TestSmtpServer::MessagesContaining(const std::string& needle) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SinkMessage> out;
  for (const auto& m : messages_)
    if (m.data.find(needle) != std::string::npos) out.push_back(m);
  return out;
}

}  // namespace sw::it
