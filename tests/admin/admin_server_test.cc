// Tests the admin HTTP server with a stub handler: keep-alive, limits, timeouts, stop, and the
// CLI's HTTP client against it. Fails by gtest assertion; every socket has a deadline.
#include "admin/admin_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "admin/http_client.h"

namespace sw::admin {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A blocking loopback client with deadlines (plain POSIX, independent of the server's code).
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool Send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Reads until the peer closes or `timeout` passes; `closed` tells which.
  std::string ReadAll(std::chrono::milliseconds timeout, bool* closed) {
    std::string out;
    *closed = false;
    auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return out;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return out;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        *closed = true;
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }
  // Reads until `needle` was seen (or timeout).
  std::string ReadUntil(const std::string& needle, std::chrono::milliseconds timeout) {
    std::string out;
    auto end = std::chrono::steady_clock::now() + timeout;
    while (out.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

class AdminServerTest : public ::testing::Test {
 protected:
  void Start(AdminServerOptions options = {}) {
    server_ = std::make_unique<AdminServer>(
        io_, config::ListenAddress{"127.0.0.1", 0},
        [this](HttpRequest r) -> asio::awaitable<HttpResponse> {
          ++requests_;
          HttpResponse res;
          if (r.target == "/teapot") {
            res.status = 418;
            res.content_type = "text/plain";
            res.headers.emplace_back("X-Extra", "yes");
            res.body = "short and stout";
            co_return res;
          }
          res.body =
              r.method + " " + r.target + " auth=[" + r.authorization + "] body=[" + r.body + "]";
          co_return res;
        },
        options);
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.message();
    port_ = server_->local_endpoint().port();
    ASSERT_NE(port_, 0);
    thread_ = std::thread([this] { io_.run(); });
  }
  // Runs `fn` on the server's io thread and waits for its result.
  template <typename Fn>
  auto OnIoThread(Fn fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }
  void StopServer() {
    OnIoThread([this] { server_->Stop(); });
  }
  size_t Connections() {
    return OnIoThread([this] { return server_->connections(); });
  }
  bool PollConnectionsZero() {
    for (int i = 0; i < 200; ++i) {
      if (Connections() == 0) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  void TearDown() override {
    guard_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  std::unique_ptr<AdminServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<int> requests_{0};
};

TEST_F(AdminServerTest, KeepAliveServesPipelinedRequestsInOrder) {
  Start();
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.Send("GET /a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n"
             "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
             "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  std::string out = c.ReadAll(5s, &closed);
  EXPECT_TRUE(closed) << "Connection: close is honoured";
  EXPECT_EQ(Count(out, "HTTP/1.1 200 OK\r\n"), 3u) << out;
  size_t a = out.find("GET /a auth=[Bearer t] body=[]");
  size_t b = out.find("POST /b auth=[] body=[xyz]");
  size_t cpos = out.find("GET /c auth=[]");
  ASSERT_NE(a, std::string::npos) << out;
  ASSERT_NE(b, std::string::npos) << out;
  ASSERT_NE(cpos, std::string::npos) << out;
  EXPECT_LT(a, b);
  EXPECT_LT(b, cpos);
  EXPECT_NE(out.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(out.find("Cache-Control: no-store\r\n"), std::string::npos);
}

TEST_F(AdminServerTest, HandlerStatusHeadersAndContentType) {
  Start();
  RawClient c(port_);
  ASSERT_TRUE(c.Send("GET /teapot HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string out = c.ReadUntil("stout", 5s);
  EXPECT_EQ(out.rfind("HTTP/1.1 418", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Type: text/plain\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Extra: yes\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Length: 15\r\n"), std::string::npos) << out;
}

TEST_F(AdminServerTest, Http10ClosesAfterTheResponse) {
  Start();
  RawClient c(port_);
  ASSERT_TRUE(c.Send("GET /x HTTP/1.0\r\n\r\n"));
  bool closed = false;
  std::string out = c.ReadAll(5s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(out.rfind("HTTP/1.0 200 OK", 0), 0u) << out;
}

TEST_F(AdminServerTest, BodyOverTheLimitGets413AndClose) {
  AdminServerOptions o;
  o.body_limit = 16;
  Start(o);
  RawClient c(port_);
  ASSERT_TRUE(
      c.Send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'b')));
  bool closed = false;
  std::string out = c.ReadAll(5s, &closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  EXPECT_NE(out.find("\"error\""), std::string::npos) << out;
  EXPECT_TRUE(closed);
  EXPECT_EQ(requests_, 0);
}

TEST_F(AdminServerTest, HeaderOverTheLimitGets431) {
  AdminServerOptions o;
  o.header_limit = 512;
  Start(o);
  RawClient c(port_);
  ASSERT_TRUE(
      c.Send("GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'h') + "\r\n\r\n"));
  bool closed = false;
  std::string out = c.ReadAll(5s, &closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0u) << out;
  EXPECT_TRUE(closed);
  EXPECT_EQ(requests_, 0);
}

TEST_F(AdminServerTest, GarbageGets400) {
  Start();
  RawClient c(port_);
  ASSERT_TRUE(c.Send("HELLO THERE\r\n\r\n"));
  bool closed = false;
  std::string out = c.ReadAll(5s, &closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_TRUE(closed);
}

TEST_F(AdminServerTest, IdleAndSlowConnectionsTimeOut) {
  AdminServerOptions o;
  o.read_timeout = 300ms;
  Start(o);
  RawClient idle(port_);
  RawClient slow(port_);
  ASSERT_TRUE(slow.Send("GET /x HTTP/1.1\r\nHo"));  // never finishes its header
  auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  EXPECT_EQ(idle.ReadAll(5s, &closed), "");
  EXPECT_TRUE(closed) << "idle connection closed by the server";
  EXPECT_EQ(slow.ReadAll(5s, &closed), "");
  EXPECT_TRUE(closed) << "slow request closed by the server";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(requests_, 0);
}

TEST_F(AdminServerTest, ConnectionsOverTheCapAreClosed) {
  AdminServerOptions o;
  o.max_connections = 1;
  Start(o);
  RawClient first(port_);
  ASSERT_TRUE(first.connected());
  ASSERT_TRUE(first.Send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(first.ReadUntil("GET /1", 5s).find("GET /1"), std::string::npos);
  RawClient second(port_);
  bool closed = false;
  second.Send("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(second.ReadAll(5s, &closed), "");
  EXPECT_TRUE(closed);
  // The first one is still served.
  ASSERT_TRUE(first.Send("GET /3 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(first.ReadUntil("GET /3", 5s).find("GET /3"), std::string::npos);
}

TEST_F(AdminServerTest, StopClosesConnectionsAndTheListener) {
  Start();
  RawClient c(port_);
  ASSERT_TRUE(c.Send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(c.ReadUntil("GET /1", 5s).find("GET /1"), std::string::npos);
  EXPECT_EQ(Connections(), 1u);
  StopServer();
  bool closed = false;
  c.ReadAll(5s, &closed);
  EXPECT_TRUE(closed);
  RawClient late(port_);
  EXPECT_FALSE(late.connected()) << "listener closed";
  EXPECT_TRUE(PollConnectionsZero());
}

TEST_F(AdminServerTest, HttpClientReusesAndReopensConnections) {
  AdminServerOptions o;
  o.read_timeout = 300ms;
  Start(o);
  HttpClient http("127.0.0.1", port_, "tok", 5s);
  HttpResult r1 = http.Call("GET", "/one");
  ASSERT_TRUE(r1.ok) << r1.error;
  EXPECT_EQ(r1.status, 200u);
  EXPECT_EQ(r1.body, "GET /one auth=[Bearer tok] body=[]");
  HttpResult r2 = http.Call("POST", "/two");
  ASSERT_TRUE(r2.ok) << r2.error;
  EXPECT_EQ(r2.body, "POST /two auth=[Bearer tok] body=[]");
  EXPECT_EQ(Connections(), 1u) << "one kept-alive connection";
  ASSERT_TRUE(PollConnectionsZero()) << "the server closes the idle connection";
  HttpResult r3 = http.Call("GET", "/teapot");
  ASSERT_TRUE(r3.ok) << r3.error;
  EXPECT_EQ(r3.status, 418u);
  EXPECT_EQ(r3.body, "short and stout");
}

TEST_F(AdminServerTest, HttpClientReportsUnreachable) {
  Start();
  uint16_t port = port_;
  StopServer();
  HttpClient http("127.0.0.1", port, "", 2s);
  HttpResult r = http.Call("GET", "/x");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("cannot connect"), std::string::npos) << r.error;
}

TEST(UrlEncodeTest, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(UrlEncode("a.b-c_d~e@f"), "a.b-c_d~e@f");
  EXPECT_EQ(UrlEncode("a/b c&d=e?\xc3\xbc"), "a%2Fb%20c%26d%3De%3F%C3%BC");
}

}  // namespace
}  // namespace sw::admin
