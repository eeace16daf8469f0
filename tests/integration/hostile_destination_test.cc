// A destination that misbehaves at random (421 greetings, 4xx anywhere, garbage and overlong
// reply lines, bare LF, hangs, closes mid-DATA): no acknowledged message is ever lost.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <list>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "harness/gateway_process.h"
#include "harness/message_text.h"
#include "harness/smtp_client.h"

namespace sw::it {
namespace {

// A loopback SMTP server whose every step may fail while `hostile` is set; it remembers the
// markers (Message-ID local parts) of the messages it answered 250 after DATA.
class HostileServer {
 public:
  explicit HostileServer(unsigned seed) : rng_(seed) {}
  ~HostileServer() { Stop(); }

  bool Start() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd_, 64) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return false;
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
    return true;
  }
  void Stop() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    std::list<std::thread> threads;
    {
      std::lock_guard lk(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  uint16_t port() const { return port_; }
  void set_hostile(bool h) { hostile_ = h; }
  std::set<std::string> accepted() const {
    std::lock_guard lk(mu_);
    return accepted_;
  }

 private:
  void Accept() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::lock_guard lk(mu_);
      threads_.emplace_back([this, c] {
        Serve(c);
        ::close(c);
      });
    }
  }
  // True with probability 1/n while hostile.
  bool Fault(unsigned n) {
    if (!hostile_) return false;
    std::lock_guard lk(mu_);
    return rng_() % n == 0;
  }
  static void Write(int c, const std::string& s) {
    (void)!::send(c, s.data(), s.size(), MSG_NOSIGNAL);
  }
  // Reads up to and including `end`; false on EOF, error, or 3 s of silence or stop.
  bool ReadUntil(int c, std::string& buf, const std::string& end, std::string* out) {
    for (;;) {
      size_t at = buf.find(end);
      if (at != std::string::npos) {
        *out = buf.substr(0, at);
        buf.erase(0, at + end.size());
        return true;
      }
      pollfd p{c, POLLIN, 0};
      int waited = 0;
      while (::poll(&p, 1, 50) == 0) {
        if (stop_ || (waited += 50) > 3000) return false;
      }
      char tmp[8192];
      ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<size_t>(n));
    }
  }
  // One step's reply, or a fault: a 4xx, garbage, an overlong line, a bare LF, silence
  // (the client's command timeout), or a close. False: the connection ends.
  bool Reply(int c, const std::string& good) {
    if (Fault(12)) return false;  // close without a word
    if (Fault(20)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past command_timeout
      return false;
    }
    if (Fault(10)) {
      Write(c, "451 4.3.0 try again later\r\n");
      return true;
    }
    if (Fault(25)) {
      Write(c, "this is not smtp\r\n");
      return true;
    }
    if (Fault(25)) {
      Write(c, "250-" + std::string(20000, 'x') + "\r\n250 ok\r\n");
      return true;
    }
    if (Fault(25)) {
      Write(c, good.substr(0, good.size() - 2) + "\n");
      return true;
    }
    Write(c, good);
    return true;
  }
  void Serve(int c) {
    if (Fault(8)) {
      Write(c, "421 4.3.2 busy\r\n");
      return;
    }
    Write(c, "220 hostile.test ESMTP\r\n");
    std::string buf, line;
    while (ReadUntil(c, buf, "\r\n", &line)) {
      std::string verb = line.substr(0, 4);
      for (char& ch : verb) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (verb == "EHLO" || verb == "HELO") {
        if (!Reply(c, "250-hostile.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")) return;
      } else if (verb == "DATA") {
        if (!Reply(c, "354 go ahead\r\n")) return;
        std::string data;
        if (!ReadUntil(c, buf, "\r\n.\r\n", &data)) return;
        bool ack = !Fault(12);
        if (ack && Fault(15)) return;  // took the data, closed before the reply
        if (!ack) {
          Write(c, "451 4.3.0 lost it\r\n");
          continue;
        }
        std::string marker = MarkerOf(data);
        Write(c, "250 2.0.0 queued\r\n");
        std::lock_guard lk(mu_);
        accepted_.insert(marker);
      } else if (verb == "QUIT") {
        Write(c, "221 bye\r\n");
        return;
      } else {  // MAIL, RCPT, RSET, NOOP
        if (!Reply(c, "250 2.0.0 ok\r\n")) return;
      }
    }
  }
  static std::string MarkerOf(const std::string& data) {
    size_t p = data.find("Message-ID: <");
    if (p == std::string::npos) return "";
    p += 13;
    return data.substr(p, data.find('@', p) - p);
  }

  std::mt19937 rng_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false}, hostile_{true};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::list<std::thread> threads_;
  std::set<std::string> accepted_;
};

TEST_F(GatewayTest, HostileDestinationLosesNoAcknowledgedMessage) {
  HostileServer dest(1127);
  ASSERT_TRUE(dest.Start());
  GatewayOptions o;
  o.domains.push_back(
      {"example.com", {"[127.0.0.1]:" + std::to_string(dest.port())}, {}, "opportunistic"});
  o.delivery_command_timeout = "1s";
  o.connect_timeout = "1s";
  ASSERT_TRUE(StartGateway(o));

  std::set<std::string> acked;
  Envelope env;
  env.from = "a@client.test";
  env.to = {"u@example.com"};
  for (int i = 0; i < 60; ++i) {
    std::string marker = "hostile-" + std::to_string(i);
    SendResult r = SendMessage(port(), env, SimpleMessage(marker, FillerBody(2000 + i * 97, i)));
    ASSERT_TRUE(r.accepted) << r.error;
    acked.insert(marker);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // spread over ~3 s of chaos
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_TRUE(gw_->running());
  dest.set_hostile(false);  // the customer's server recovers
  bool all = PollUntil(
      [&] {
        auto got = dest.accepted();
        for (const auto& m : acked)
          if (!got.count(m)) return false;
        return true;
      },
      60s);
  auto got = dest.accepted();
  std::string missing;
  for (const auto& m : acked)
    if (!got.count(m)) missing += " " + m;
  EXPECT_TRUE(all) << "never delivered:" << missing;
  EXPECT_TRUE(gw_->running());
  // The faults did happen: deliveries were deferred, the domain went down and came back.
  EXPECT_GT(gw_->CountInAllLogs("event=deferred\\b"), 5u);
}

}  // namespace
}  // namespace sw::it
