// Tests the curl-based HTTP client against the harness's TestHttpServer over loopback: request
// shape, GET, basic auth, statuses, keep-alive, refusals, timeouts, cancellation, SendBlocking,
// TLS verification, and the test server's own limits. Fails with an assertion.
#include "common/http_client.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <thread>

#include "tests/common/http_server_test.h"
#include "tests/integration/harness/process.h"

namespace sw::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using it::TestHttpServer;

std::vector<std::string> HeaderValues(const it::HttpRecord& r, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : r.headers)
    if (n == name) out.push_back(v);
  return out;
}

using HttpClientTest = HttpServerTest;

TEST_F(HttpClientTest, PostsHeadersAndBodyAndReusesTheConnection) {
  HttpClient client(4);
  it::HttpRecord req = SendThreeAndExpectOk(client, server_);
  EXPECT_EQ(server_.connections(), 1u) << "keep-alive connection not reused";
  EXPECT_EQ(server_.answered_with(200), 3u);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/checkv2");
  EXPECT_EQ(req.body, kMessage);
  EXPECT_EQ(req.Header("content-length"), std::to_string(req.body.size()));
  EXPECT_EQ(req.Header("From"), "a@b.test");
  EXPECT_EQ(HeaderValues(req, "Rcpt"), (std::vector<std::string>{"c@d.test", "e@f.test"}));
  EXPECT_EQ(req.Header("Content-Type"), "message/rfc822");
  EXPECT_EQ(req.Header("User-Agent"), "SpamWeeder");
  EXPECT_EQ(req.Header("Expect"), "");
  EXPECT_EQ(req.Header("Authorization"), "");
}

TEST_F(HttpClientTest, PostAliasAndContentType) {
  HttpClient client(2);
  HttpRequest req = Request(server_);
  req.method = "GET";  // Post forces POST
  req.content_type.clear();
  req.body = std::make_shared<std::string>(R"({"alert":"queue"})");
  asio::io_context io;
  HttpResponse r;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { r = co_await client.Post(std::move(req)); },
      asio::detached);
  io.run();
  ASSERT_TRUE(r.ok) << r.error;
  HttpRequest json = Request(server_);
  json.content_type = "application/json";
  ASSERT_TRUE(SendOnce(client, std::move(json)).ok);
  auto recs = server_.requests();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].method, "POST");
  EXPECT_EQ(recs[0].body, R"({"alert":"queue"})");
  EXPECT_EQ(recs[0].Header("Content-Type"), "") << "no curl form default";
  EXPECT_EQ(recs[1].Header("Content-Type"), "application/json");
}

TEST_F(HttpClientTest, GetSendsNoBody) {
  HttpClient client(2);
  HttpRequest req = Request(server_);
  req.method = "GET";
  req.url = server_.url() + "/status?x=1";
  HttpResponse r = SendOnce(client, std::move(req));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"ok":true})");
  ASSERT_EQ(server_.count(), 1u);
  it::HttpRecord rec = server_.requests()[0];
  EXPECT_EQ(rec.method, "GET");
  EXPECT_EQ(rec.target, "/status?x=1");
  EXPECT_EQ(rec.body, "");
  EXPECT_EQ(rec.Header("Content-Length"), "");
  EXPECT_EQ(rec.Header("Content-Type"), "");
  EXPECT_EQ(rec.Header("Rcpt"), "c@d.test");  // headers still go
}

TEST_F(HttpClientTest, UnsupportedMethodFails) {
  HttpClient client(2);
  ExpectUnsupportedMethodFails(client, server_);
}

TEST_F(HttpClientTest, BasicAuthHeader) {
  HttpClient client(2);
  HttpRequest req = Request(server_);
  req.basic_user = "alerts";
  req.basic_password = "s3cr:et";
  ASSERT_TRUE(SendOnce(client, std::move(req)).ok);
  HttpRequest no_user = Request(server_);
  no_user.basic_password = "ignored without a user";
  ASSERT_TRUE(SendOnce(client, std::move(no_user)).ok);
  auto recs = server_.requests();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].Header("Authorization"), "Basic YWxlcnRzOnMzY3I6ZXQ=");  // alerts:s3cr:et
  EXPECT_EQ(recs[1].Header("Authorization"), "");
}

TEST_F(HttpClientTest, ErrorStatusesAreResponses) {
  HttpClient client(2);
  server_.RespondWith({500, 503, 200});
  std::vector<long> got;
  for (int i = 0; i < 4; ++i) {
    HttpResponse r = SendOnce(client, Request(server_));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.body, R"({"ok":true})");
    got.push_back(r.status);
  }
  EXPECT_EQ(got, (std::vector<long>{500, 503, 200, 200}));  // the last one repeats
  EXPECT_EQ(server_.answered_with(500), 1u);
  EXPECT_EQ(server_.answered_with(503), 1u);
  EXPECT_EQ(server_.answered_with(200), 2u);
  server_.RespondWith({204});
  HttpResponse empty = SendOnce(client, Request(server_));
  ASSERT_TRUE(empty.ok) << empty.error;
  EXPECT_EQ(empty.status, 204);
  EXPECT_EQ(empty.body, "");
  // The connection survives every answer, the body-less one included.
  HttpResponse after = SendOnce(client, Request(server_));
  EXPECT_EQ(after.status, 204);
  EXPECT_EQ(server_.connections(), 1u);
}

TEST_F(HttpClientTest, ConnectionCloseIsHonoured) {
  HttpClient client(2);
  HttpRequest req = Request(server_);
  req.headers.push_back("Connection: close");
  ASSERT_TRUE(SendOnce(client, std::move(req)).ok);
  ASSERT_TRUE(SendOnce(client, Request(server_)).ok);
  EXPECT_EQ(server_.count(), 2u);
  EXPECT_EQ(server_.connections(), 2u);
}

TEST_F(HttpClientTest, WaitForRequestContaining) {
  HttpClient client(2);
  std::thread sender([&] {
    std::this_thread::sleep_for(100ms);
    HttpRequest req = Request(server_);
    req.body = std::make_shared<std::string>("alert: needle-4711\r\n");
    client.SendBlocking(std::move(req));
  });
  std::optional<it::HttpRecord> rec = server_.WaitForRequestContaining("needle-4711", 5s);
  sender.join();
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->method, "POST");
  EXPECT_TRUE(server_.WaitForCount(1, 1s));
  EXPECT_FALSE(server_.WaitForCount(2, 100ms));
  EXPECT_FALSE(server_.WaitForRequestContaining("absent", 100ms));
}

TEST_F(HttpClientTest, ManyConcurrentRequestsComplete) {
  HttpClient client(4);
  EXPECT_EQ(SendConcurrently(client, server_, 40), 40);
  EXPECT_EQ(server_.count(), 40u);
  EXPECT_LE(server_.connections(), 4u);
}

TEST(HttpClient, ClosedPortFailsFast) {
  it::ClosedPort closed;
  ASSERT_NE(closed.port(), 0);
  HttpClient client(2);
  HttpRequest req = ExpectClosedPortFailsFast(client, closed.port());
  HttpResponse blocking = client.SendBlocking(req);
  EXPECT_FALSE(blocking.ok);
  EXPECT_FALSE(blocking.error.empty());
}

TEST_F(HttpClientTest, SlowServerTimesOut) {
  HttpClient client(2);
  ExpectSlowServerTimesOut(client, server_);
}

TEST_F(HttpClientTest, CancellingTheWaitAbortsTheTransfer) {
  HttpClient client(2);
  ExpectCancellingAbortsTheTransfer(client, server_);
}

TEST_F(HttpClientTest, StopFailsTransfersInFlight) {
  server_.SetDelay(10s);
  HttpClient client(2);
  asio::io_context io;
  HttpResponse out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out = co_await client.Send(Request(server_)); },
      asio::detached);
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    client.Stop();
  });
  io.run();
  stopper.join();
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error, "HTTP client stopped");
  // After Stop, new requests fail at once, blocking ones included.
  HttpResponse late = SendOnce(client, Request(server_));
  EXPECT_FALSE(late.ok);
  HttpResponse late_blocking = client.SendBlocking(Request(server_));
  EXPECT_FALSE(late_blocking.ok);
  EXPECT_EQ(late_blocking.error, "HTTP client stopped");
}

TEST_F(HttpClientTest, SendBlockingFromPlainThreads) {
  HttpClient client(2);
  server_.RespondWith({202});
  std::vector<HttpResponse> got(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] {
      HttpRequest req = Request(server_);
      req.method = i % 2 ? "GET" : "POST";
      got[i] = client.SendBlocking(std::move(req));
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : got) {
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 202);
    EXPECT_EQ(r.body, R"({"ok":true})");
  }
  EXPECT_EQ(server_.count(), 4u);
  // And a timeout reaches a blocking caller too.
  server_.SetDelay(3s);
  HttpResponse slow;
  std::thread t([&] { slow = client.SendBlocking(Request(server_, 200ms)); });
  t.join();
  EXPECT_FALSE(slow.ok);
  EXPECT_TRUE(slow.timed_out) << slow.error;
}

// The test server's bounds: an oversized header section or body closes the connection.
TEST_F(HttpClientTest, TestServerRejectsOversizedRequests) {
  HttpClient client(2);
  HttpRequest big_header = Request(server_);
  big_header.headers.push_back("X-Big: " + std::string(TestHttpServer::kMaxHeaderBytes, 'h'));
  HttpResponse r1 = SendOnce(client, std::move(big_header));
  EXPECT_FALSE(r1.ok);
  HttpRequest big_body = Request(server_);
  big_body.body = std::make_shared<std::string>(TestHttpServer::kMaxBodyBytes + 1, 'b');
  HttpResponse r2 = SendOnce(client, std::move(big_body));
  EXPECT_FALSE(r2.ok);
  EXPECT_EQ(server_.count(), 0u);
  auto errors = server_.errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find("header section over"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("body over"), std::string::npos) << errors[1];
  // Still serving.
  EXPECT_TRUE(SendOnce(client, Request(server_)).ok);
}

// Certificate verification is on: a self-signed server is refused.
TEST(HttpClient, HttpsVerifiesTheCertificate) {
  it::TempDir dir;
  std::string error;
  auto made = it::Process::Run(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
       "subjectAltName=IP:127.0.0.1", "-keyout", dir.File("key.pem"), "-out", dir.File("cert.pem")},
      dir.File("req.log"), 30s, &error);
  ASSERT_TRUE(made && made->exited && made->code == 0)
      << error << it::ReadFile(dir.File("req.log"));
  uint16_t port = it::FreeLoopbackPort();
  ASSERT_NE(port, 0);
  it::Process server;
  ASSERT_TRUE(
      server.Start({"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port),
                    "-cert", dir.File("cert.pem"), "-key", dir.File("key.pem"), "-www"},
                   dir.File("s_server.log"), &error))
      << error;
  it::LogFile log(dir.File("s_server.log"));
  ASSERT_TRUE(log.WaitFor("ACCEPT", 10s)) << log.Text();
  HttpClient client(2);
  HttpRequest req;
  req.method = "GET";
  req.url = "https://127.0.0.1:" + std::to_string(port) + "/";
  req.timeout = 5s;
  HttpResponse r = SendOnce(client, std::move(req));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.error.find("certificate"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace sw::http
