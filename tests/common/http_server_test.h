// Owns the HTTP client tests' shared fixture and scenarios: a TestHttpServer on loopback, an
// rspamd-style request, and checks both clients must pass. Fails the test with an assertion.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/test_http_server.h"

namespace sw::http {

inline constexpr char kMessage[] = "Subject: hi\r\n\r\nbody\r\n";

// An rspamd-style POST: envelope headers, a message body.
inline HttpRequest Request(const it::TestHttpServer& server,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  HttpRequest r;
  r.url = server.url() + "/checkv2";
  r.headers = {"From: a@b.test", "Rcpt: c@d.test", "Rcpt: e@f.test"};
  r.content_type = "message/rfc822";
  r.body = std::make_shared<std::string>(kMessage);
  r.timeout = timeout;
  return r;
}

// One request through `client` (HttpClient or AsioHttpClient) on a fresh io_context.
template <typename Client>
HttpResponse SendOnce(Client& client, HttpRequest req) {
  boost::asio::io_context io;
  HttpResponse out;
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { out = co_await client.Send(std::move(req)); },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  return out;
}

// Three Request()s in a row through `client`, each answered 200 with the default body; the last
// one as the server recorded it.
template <typename Client>
it::HttpRecord SendThreeAndExpectOk(Client& client, const it::TestHttpServer& server) {
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = SendOnce(client, Request(server));
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"ok":true})");
  }
  EXPECT_EQ(server.count(), 3u);
  std::vector<it::HttpRecord> all = server.requests();
  return all.empty() ? it::HttpRecord() : all.back();
}

// `n` requests at once through `client` on one io_context; how many got a 200.
template <typename Client>
int SendConcurrently(Client& client, const it::TestHttpServer& server, int n) {
  boost::asio::io_context io(1);
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          HttpResponse r = co_await client.Send(Request(server));
          ok += r.ok && r.status == 200;
        },
        boost::asio::detached);
  }
  io.run();
  return ok;
}

// A 300 ms timeout against a server holding its answer 3 s: a timeout, the connection closed.
template <typename Client>
void ExpectSlowServerTimesOut(Client& client, it::TestHttpServer& server) {
  using namespace std::chrono_literals;
  server.SetDelay(3s);
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = SendOnce(client, Request(server, 300ms));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.timed_out) << r.error;
  EXPECT_FALSE(r.error.empty());
  EXPECT_GE(took, 280ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(server.count(), 1u);  // it arrived; the answer came too late
  // The timed-out connection is closed by curl; the server drops the held answer.
  EXPECT_TRUE(it::PollUntil([&] { return server.open_connections() == 0; }, 2s));
  EXPECT_EQ(server.answered_with(200), 0u);
}

// The filter pipeline's race: a held request `||` a 150 ms timer. The timer wins at once and
// the transfer is removed: curl closes its connection.
template <typename Client>
void ExpectCancellingAbortsTheTransfer(Client& client, it::TestHttpServer& server) {
  namespace asio = boost::asio;
  using namespace asio::experimental::awaitable_operators;
  using namespace std::chrono_literals;
  server.SetDelay(10s);
  asio::io_context io(1);
  bool timer_won = false;
  auto start = std::chrono::steady_clock::now();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(io, 150ms);
        auto first = co_await (client.Send(Request(server, 10s)) ||
                               t.async_wait(asio::as_tuple(asio::use_awaitable)));
        timer_won = first.index() == 1;
      },
      asio::detached);
  io.run();  // for AsioHttpClient: returns only once no curl socket or timer is left on `io`
  EXPECT_TRUE(timer_won);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(server.WaitForCount(1, 2s));
  EXPECT_TRUE(it::PollUntil([&] { return server.open_connections() == 0; }, 2s));
  EXPECT_EQ(server.answered_with(200), 0u);
}

// A refused connect fails at once, not as a timeout; returns the request for more tries.
template <typename Client>
HttpRequest ExpectClosedPortFailsFast(Client& client, uint16_t closed_port) {
  using namespace std::chrono_literals;
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/hook";
  req.timeout = 5s;
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = SendOnce(client, req);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(r.status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  return req;
}

// PUT is refused before anything is sent.
template <typename Client>
void ExpectUnsupportedMethodFails(Client& client, const it::TestHttpServer& server) {
  HttpRequest req = Request(server);
  req.method = "PUT";
  HttpResponse r = SendOnce(client, std::move(req));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("unsupported HTTP method"), std::string::npos) << r.error;
  EXPECT_EQ(server.count(), 0u);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(server_.Start(0, &error)) << error;
  }
  it::TestHttpServer server_;
};

}  // namespace sw::http
