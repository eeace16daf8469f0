// Tests the curl-based HTTP client against a tiny local HTTP/1.1 server: request shape,
// keep-alive reuse, refused connections, timeouts, cancellation. Fails with an assertion.
#include "filters/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <list>
#include <mutex>
#include <thread>

namespace sw::filters {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Answers every request with 200 and a JSON body (keep-alive), or never answers (`hang`).
class TinyHttpServer {
 public:
  explicit TinyHttpServer(bool hang = false) : hang_(hang) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    listen(fd_, 16);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~TinyHttpServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    acceptor_.join();
    {
      std::lock_guard<std::mutex> l(mu_);
      for (int c : conns_) shutdown(c, SHUT_RDWR);
    }
    for (auto& t : threads_) t.join();
  }
  uint16_t port() const { return port_; }
  int connections() const { return connections_; }
  int requests() const { return requests_; }
  std::string last_request() {
    std::lock_guard<std::mutex> l(mu_);
    return last_;
  }
  bool saw_close() const { return closed_ > 0; }

 private:
  void Accept() {
    for (;;) {
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      ++connections_;
      std::lock_guard<std::mutex> l(mu_);
      conns_.push_back(c);
      threads_.emplace_back([this, c] { Serve(c); });
    }
  }
  void Serve(int c) {
    std::string in;
    char buf[8192];
    for (;;) {
      size_t head_end;
      while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) {
          ++closed_;
          close(c);
          return;
        }
        in.append(buf, static_cast<size_t>(n));
      }
      size_t cl = 0;
      size_t p = in.find("Content-Length: ");
      if (p != std::string::npos && p < head_end) cl = std::stoul(in.substr(p + 16));
      while (in.size() < head_end + 4 + cl) {
        ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) {
          ++closed_;
          close(c);
          return;
        }
        in.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> l(mu_);
        last_ = in.substr(0, head_end + 4 + cl);
      }
      in.erase(0, head_end + 4 + cl);
      ++requests_;
      if (hang_) continue;  // read on, never answer
      std::string body = R"({"score": 1.5, "action": "no action"})";
      std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body;
      send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
    }
  }

  bool hang_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0}, requests_{0}, closed_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::list<std::thread> threads_;
  std::string last_;
};

HttpRequest Request(uint16_t port, std::chrono::milliseconds timeout = 5s) {
  HttpRequest r;
  r.url = "http://127.0.0.1:" + std::to_string(port) + "/checkv2";
  r.headers = {"From: a@b.test", "Rcpt: c@d.test", "Rcpt: e@f.test"};
  r.body = std::make_shared<std::string>("Subject: hi\r\n\r\nbody\r\n");
  r.timeout = timeout;
  return r;
}

HttpResponse PostOnce(HttpClient& client, HttpRequest req) {
  asio::io_context io;
  HttpResponse out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out = co_await client.Post(std::move(req)); },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  return out;
}

TEST(HttpClient, PostsHeadersAndBodyAndReusesTheConnection) {
  TinyHttpServer server;
  HttpClient client(4);
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = PostOnce(client, Request(server.port()));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"score": 1.5, "action": "no action"})");
  }
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(server.connections(), 1) << "keep-alive connection not reused";
  std::string req = server.last_request();
  EXPECT_EQ(req.rfind("POST /checkv2 HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("\r\nRcpt: c@d.test\r\nRcpt: e@f.test\r\n"), std::string::npos) << req;
  EXPECT_EQ(req.find("Expect:"), std::string::npos) << req;
  EXPECT_NE(req.find("\r\n\r\nSubject: hi\r\n\r\nbody\r\n"), std::string::npos) << req;
}

TEST(HttpClient, ManyConcurrentPostsComplete) {
  TinyHttpServer server;
  HttpClient client(4);
  asio::io_context io;
  int ok = 0;
  for (int i = 0; i < 40; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          HttpResponse r = co_await client.Post(Request(server.port()));
          ok += r.ok && r.status == 200;
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(ok, 40);
  EXPECT_LE(server.connections(), 4);
}

TEST(HttpClient, RefusedConnectionFailsFast) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  uint16_t port = ntohs(sa.sin_port);
  close(fd);  // nothing listens there now
  HttpClient client(2);
  auto start = Clock::now();
  HttpResponse r = PostOnce(client, Request(port));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.error.empty());
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST(HttpClient, HungServerTimesOut) {
  TinyHttpServer server(/*hang=*/true);
  HttpClient client(2);
  auto start = Clock::now();
  HttpResponse r = PostOnce(client, Request(server.port(), 300ms));
  auto took = Clock::now() - start;
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.timed_out) << r.error;
  EXPECT_GE(took, 280ms);
  EXPECT_LT(took, 2s);
}

TEST(HttpClient, CancellingTheWaitAbortsTheTransfer) {
  using namespace asio::experimental::awaitable_operators;
  TinyHttpServer server(/*hang=*/true);
  HttpClient client(2);
  asio::io_context io;
  bool timer_won = false;
  auto start = Clock::now();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(io, 150ms);
        auto first = co_await (client.Post(Request(server.port(), 10s)) ||
                               t.async_wait(asio::as_tuple(asio::use_awaitable)));
        timer_won = first.index() == 1;
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(timer_won);
  EXPECT_LT(Clock::now() - start, 2s);
  // The connection is dropped by curl once the transfer is removed.
  for (int i = 0; i < 100 && !server.saw_close(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(server.saw_close());
}

TEST(HttpClient, StopFailsTransfersInFlight) {
  TinyHttpServer server(/*hang=*/true);
  HttpClient client(2);
  asio::io_context io;
  HttpResponse out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out = co_await client.Post(Request(server.port())); },
      asio::detached);
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    client.Stop();
  });
  io.run();
  stopper.join();
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error, "HTTP client stopped");
  // After Stop, new requests fail at once.
  HttpResponse late = PostOnce(client, Request(server.port()));
  EXPECT_FALSE(late.ok);
}

}  // namespace
}  // namespace sw::filters
