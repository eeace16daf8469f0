// Owns the CLI's HTTP/1.1 client for the admin API: one kept-alive connection, bearer token.
// Fails by HttpResult (transport error text, or the HTTP status and body); never throws.
#include "admin/http_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace sw::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

struct HttpClient::Impl {
  std::string host;
  uint16_t port;
  std::string token;
  std::chrono::milliseconds timeout;
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  asio::awaitable<HttpResult> Once(std::string method, std::string target,
                                   const HttpCallOptions& options, bool* reused,
                                   bool* nothing_read) {
    HttpResult out;
    *reused = stream.has_value();
    *nothing_read = true;
    boost::system::error_code ec;
    if (!stream) {
      auto addr = asio::ip::make_address(host, ec);
      if (ec) {
        out.error = "bad admin address " + host;
        co_return out;
      }
      stream.emplace(io);
      buffer.clear();
      stream->expires_after(timeout);
      auto [cec] = co_await stream->async_connect(tcp::endpoint(addr, port),
                                                  asio::as_tuple(asio::use_awaitable));
      if (cec) {
        stream.reset();
        out.error = "cannot connect to " + host + ":" + std::to_string(port) + ": " + cec.message();
        co_return out;
      }
    }
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, host + ":" + std::to_string(port));
    req.set(http::field::user_agent, "spamweeder-cli");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    for (const auto& [name, value] : options.headers) req.set(name, value);
    if (!options.body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = options.body;
    }
    req.prepare_payload();
    req.keep_alive(true);
    stream->expires_after(timeout);
    auto [wec, wn] = co_await http::async_write(*stream, req, asio::as_tuple(asio::use_awaitable));
    if (wec) {
      stream.reset();
      out.error = "write: " + wec.message();
      co_return out;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(256ull << 20);
    auto [rec, rn] =
        co_await http::async_read(*stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (rec) {
      *nothing_read = rn == 0 && parser.got_some() == false;
      stream.reset();
      out.error = rec == beast::error::timeout ? "timed out" : "read: " + rec.message();
      co_return out;
    }
    *nothing_read = false;
    auto& res = parser.get();
    out.ok = true;
    out.status = res.result_int();
    out.body = std::move(res.body());
    for (const auto& field : res)
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    if (!res.keep_alive()) stream.reset();
    co_return out;
  }
};

HttpClient::HttpClient(std::string host, uint16_t port, std::string token,
                       std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->token = std::move(token);
  impl_->timeout = timeout;
}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::Call(std::string_view method, const std::string& target) {
  return Call(method, target, HttpCallOptions{});
}

std::string HttpResult::Header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (boost::beast::iequals(n, name)) return v;
  return "";
}

HttpResult HttpClient::Call(std::string_view method, const std::string& target,
                            const HttpCallOptions& options) {
  for (int attempt = 0;; ++attempt) {
    HttpResult result;
    bool reused = false, nothing_read = true;
    impl_->io.restart();
    asio::co_spawn(impl_->io,
                   impl_->Once(std::string(method), target, options, &reused, &nothing_read),
                   [&](std::exception_ptr e, HttpResult r) {
                     if (e) {
                       result.error = "internal error";
                     } else {
                       result = std::move(r);
                     }
                   });
    impl_->io.run();
    // A kept-alive connection the server closed while we were idle: retry once, fresh.
    if (!result.ok && reused && nothing_read && attempt == 0) continue;
    return result;
  }
}

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~' || c == '@';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace sw::admin
