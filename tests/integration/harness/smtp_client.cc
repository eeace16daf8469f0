// Owns the test-side SMTP clients: a raw byte-exact client (for pipelining, smuggling, limits)
// and a swaks runner. Fails by return value: nullopt / false plus error(), never blocks forever.
#include "tests/integration/harness/smtp_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <regex>

#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {

std::string Reply::text() const {
  std::string s;
  for (const auto& l : lines) s += (s.empty() ? "" : "\n") + l;
  return s;
}

std::ostream& operator<<(std::ostream& os, const Reply& r) {
  return os << "[" << r.text() << (r.bare_lf ? " (bare LF)" : "") << "]";
}

bool SmtpClient::Connect(uint16_t port, Millis timeout) {
  Close();
  eof_ = false;
  in_.clear();
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    error_ = std::string("socket: ") + strerror(errno);
    return false;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(port);
  int r = connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  if (r != 0 && errno == EINPROGRESS) {
    pollfd p{fd_, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      r = err == 0 ? 0 : -1;
      errno = err;
    } else {
      errno = ETIMEDOUT;
    }
  }
  if (r != 0) {
    error_ = "connect 127.0.0.1:" + std::to_string(port) + ": " + strerror(errno);
    Close();
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

bool SmtpClient::Open(uint16_t port, Millis timeout) {
  if (!Connect(port, timeout)) return false;
  auto greeting = ReadReply(timeout);
  if (!greeting || greeting->code != 220) {
    error_ = "greeting: " + (greeting ? greeting->text() : error_);
    return false;
  }
  return true;
}

bool SmtpClient::Send(std::string_view bytes) {
  if (fd_ < 0) {
    error_ = "not connected";
    return false;
  }
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (poll(&p, 1, 30000) != 1) {
        error_ = "send: timed out (peer not reading)";
        return false;
      }
      continue;
    }
    error_ = std::string("send: ") + strerror(errno);
    return false;
  }
  return true;
}

bool SmtpClient::ReadSome(Millis timeout) {
  if (fd_ < 0 || eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  int r;
  do {
    r = poll(&p, 1, static_cast<int>(timeout.count()));
  } while (r < 0 && errno == EINTR);
  if (r == 0) {
    error_ = "timed out waiting for the server";
    return false;
  }
  char buf[16384];
  ssize_t n = recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    eof_ = true;
    error_ = n == 0 ? "connection closed by server" : std::string("recv: ") + strerror(errno);
    return false;
  }
  in_.append(buf, static_cast<size_t>(n));
  return true;
}

std::optional<Reply> SmtpClient::ReadReply(Millis timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  Reply reply;
  size_t pos = 0;
  for (;;) {
    size_t nl = in_.find('\n', pos);
    if (nl == std::string::npos) {
      auto left = std::chrono::duration_cast<Millis>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !ReadSome(left)) return std::nullopt;
      continue;
    }
    std::string line = in_.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    } else {
      reply.bare_lf = true;
    }
    bool more = line.size() >= 4 && line[3] == '-';
    if (line.size() < 3 || !isdigit(static_cast<unsigned char>(line[0]))) {
      error_ = "malformed reply line: " + line;
      in_.erase(0, pos);
      return std::nullopt;
    }
    reply.code = std::stoi(line.substr(0, 3));
    reply.lines.push_back(std::move(line));
    if (!more) {
      in_.erase(0, pos);
      return reply;
    }
  }
}

std::optional<Reply> SmtpClient::Command(std::string_view line, Millis timeout) {
  std::string s(line);
  s += "\r\n";
  if (!Send(s)) return std::nullopt;
  return ReadReply(timeout);
}

bool SmtpClient::WaitClosed(Millis timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!eof_) {
    auto left = std::chrono::duration_cast<Millis>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (!ReadSome(left) && !eof_) return false;
  }
  return true;
}

void SmtpClient::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

std::string QueueIdFromReply(const Reply& r) {
  static const std::regex re("^250 2\\.0\\.0 Ok: queued as ([0-9A-F]{16})$");
  std::smatch m;
  std::string last = r.last();
  if (r.code == 250 && std::regex_match(last, m, re)) return m[1].str();
  return "";
}

SendResult SendMessage(uint16_t port, const Envelope& env, const std::string& data,
                       Millis timeout) {
  SendResult res;
  SmtpClient c;
  auto fail = [&](const std::string& what) {
    res.error = what + ": " + (res.replies.empty() ? c.error() : res.replies.back().text());
    return res;
  };
  if (!c.Connect(port, timeout)) return fail("connect");
  auto step = [&](std::optional<Reply> r, int want) {
    if (!r) return false;
    res.replies.push_back(*r);
    return r->code == want;
  };
  if (!step(c.ReadReply(timeout), 220)) return fail("greeting");
  if (!step(c.Command("EHLO " + env.helo, timeout), 250)) return fail("EHLO");
  if (!step(c.Command("MAIL FROM:<" + env.from + ">" + env.mail_params, timeout), 250))
    return fail("MAIL");
  size_t ok_rcpts = 0;
  for (const auto& to : env.to) {
    auto r = c.Command("RCPT TO:<" + to + ">", timeout);
    if (!r) return fail("RCPT");
    res.replies.push_back(*r);
    if (r->code == 250) ++ok_rcpts;
  }
  if (ok_rcpts == 0) return fail("RCPT");
  if (!step(c.Command("DATA", timeout), 354)) return fail("DATA");
  if (!c.Send(DotStuff(data) + ".\r\n")) return fail("data");
  auto final_reply = c.ReadReply(timeout);
  if (!final_reply) return fail("end of data");
  res.replies.push_back(*final_reply);
  res.queue_id = QueueIdFromReply(*final_reply);
  res.accepted = final_reply->code == 250;
  if (!res.accepted) return fail("end of data");
  c.Command("QUIT", timeout);
  return res;
}

SwaksResult RunSwaks(uint16_t port, const std::vector<std::string>& args,
                     const std::string& work_dir, Millis timeout) {
  static std::atomic<int> seq{0};
  SwaksResult res;
  std::string out = work_dir + "/swaks-" + std::to_string(++seq) + ".out";
  std::vector<std::string> argv = {"/usr/bin/swaks", "--server",
                                   "127.0.0.1:" + std::to_string(port)};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string error;
  res.status = Process::Run(argv, out, timeout, &error);
  res.output = ReadFile(out);
  if (!error.empty()) res.output += "\n[harness] " + error;
  static const std::regex re("<[-~] +250 2\\.0\\.0 Ok: queued as ([0-9A-F]{16})");
  std::smatch m;
  if (std::regex_search(res.output, m, re)) res.queue_id = m[1].str();
  return res;
}

}  // namespace sw::it
