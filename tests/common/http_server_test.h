// Owns the HTTP client tests' shared fixture: a TestHttpServer on loopback and an rspamd-style
// request for it. Fails the test when the server cannot start.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <string>

#include "common/http_client.h"
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

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(server_.Start(0, &error)) << error;
  }
  it::TestHttpServer server_;
};

}  // namespace sw::http
