// Tests the asio-driven HTTP client against the harness's TestHttpServer: a POST round trip,
// unix sockets, timeouts, cancellation by `||`, the size cap, Stop and the io_context going away
// with a transfer in flight. Fails with an assertion.
#include "common/asio_http_client.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "common/http_transfer.h"
#include "tests/common/http_server_test.h"
#include "tests/integration/harness/process.h"

namespace sw::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using AsioHttpClientTest = HttpServerTest;

TEST_F(AsioHttpClientTest, PostRoundTrip) {
  AsioHttpClient client(4);
  it::HttpRecord req = SendThreeAndExpectOk(client, server_);
  // Each SendOnce has its own io_context: the client moves to the next one when idle.
  EXPECT_EQ(server_.connections(), 3u);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/checkv2");
  EXPECT_EQ(req.body, kMessage);
  EXPECT_EQ(req.Header("Rcpt"), "c@d.test");
  EXPECT_EQ(req.Header("Content-Type"), "message/rfc822");
  EXPECT_EQ(req.Header("User-Agent"), "SpamWeeder");
}

TEST_F(AsioHttpClientTest, ConcurrentRequestsShareOneIoContext) {
  AsioHttpClient client(4);
  EXPECT_EQ(SendConcurrently(client, server_, 40), 40);
  EXPECT_EQ(server_.count(), 40u);
  EXPECT_LE(server_.connections(), 4u);  // kept alive and reused within the io_context
}

TEST(AsioHttpClient, UnixSocketRoundTrip) {
  it::TempDir dir;
  it::TestHttpServer server;
  std::string error;
  ASSERT_TRUE(server.StartUnix(dir.File("http.sock"), &error)) << error;
  server.RespondWith({201});
  AsioHttpClient client(2);
  HttpRequest req = Request(server);
  req.url = "http://localhost/checkv2";
  req.unix_socket = dir.File("http.sock");
  HttpResponse r = SendOnce(client, std::move(req));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"ok":true})");
  ASSERT_EQ(server.count(), 1u);
  EXPECT_EQ(server.requests()[0].body, kMessage);
  EXPECT_EQ(server.requests()[0].Header("Host"), "localhost");
}

TEST(AsioHttpClient, ClosedPortFailsFast) {
  it::ClosedPort closed;
  ASSERT_NE(closed.port(), 0);
  AsioHttpClient client(2);
  ExpectClosedPortFailsFast(client, closed.port());
}

TEST_F(AsioHttpClientTest, UnsupportedMethodFails) {
  AsioHttpClient client(2);
  ExpectUnsupportedMethodFails(client, server_);
}

TEST_F(AsioHttpClientTest, SlowServerTimesOut) {
  AsioHttpClient client(2);
  ExpectSlowServerTimesOut(client, server_);
}

TEST_F(AsioHttpClientTest, CancellingTheWaitRemovesTheTransfer) {
  AsioHttpClient client(2);
  ExpectCancellingAbortsTheTransfer(client, server_);
  // The client goes on serving.
  server_.SetDelay(std::chrono::milliseconds(0));
  HttpResponse after = SendOnce(client, Request(server_));
  EXPECT_TRUE(after.ok) << after.error;
}

TEST_F(AsioHttpClientTest, ResponseTooLargeFails) {
  server_.SetBody(std::string(kMaxResponseBytes + 1, 'x'));
  AsioHttpClient client(2);
  HttpResponse r = SendOnce(client, Request(server_));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.error.find("response larger than"), std::string::npos) << r.error;
  server_.SetBody(std::string(kMaxResponseBytes, 'y'));  // the cap itself still fits
  HttpResponse fits = SendOnce(client, Request(server_));
  ASSERT_TRUE(fits.ok) << fits.error;
  EXPECT_EQ(fits.body.size(), kMaxResponseBytes);
}

TEST_F(AsioHttpClientTest, StopFailsTransfersInFlight) {
  server_.SetDelay(10s);
  AsioHttpClient client(2);
  asio::io_context io(1);
  HttpResponse out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out = co_await client.Send(Request(server_)); },
      asio::detached);
  asio::steady_timer stopper(io, 200ms);
  stopper.async_wait([&](boost::system::error_code) { client.Stop(); });
  auto start = Clock::now();
  io.run();
  // Ended by Stop(), not by the server's answer 10 s later (a behaviour bound, not a speed).
  EXPECT_LT(Clock::now() - start, 8s);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error, "HTTP client stopped");
  EXPECT_TRUE(it::PollUntil([&] { return server_.open_connections() == 0; }, 2s));
  HttpResponse late = SendOnce(client, Request(server_));
  EXPECT_FALSE(late.ok);
  EXPECT_EQ(late.error, "HTTP client stopped");
}

// The io_context is destroyed first (the awaiting coroutine with it): the transfer is dropped,
// its socket released before the reactor goes; the client then serves a new io_context.
TEST_F(AsioHttpClientTest, IoContextDestroyedWithTransferInFlight) {
  server_.SetDelay(10s);
  AsioHttpClient client(2);
  bool resumed = false;
  {
    asio::io_context io(1);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await client.Send(Request(server_));
          resumed = true;
        },
        asio::detached);
    ASSERT_TRUE(it::PollUntil(
        [&] {
          io.run_for(10ms);
          return server_.count() == 1;
        },
        5s));
  }
  EXPECT_FALSE(resumed);
  EXPECT_TRUE(it::PollUntil([&] { return server_.open_connections() == 0; }, 2s));
  server_.SetDelay(0ms);
  HttpResponse again = SendOnce(client, Request(server_));
  EXPECT_TRUE(again.ok) << again.error;
}

}  // namespace
}  // namespace sw::http
