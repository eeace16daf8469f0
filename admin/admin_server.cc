// Owns the admin HTTP/1.1 listener (Boost.Beast, coroutines): keep-alive, size limits, timeouts,
// HTTPS when given TLS contexts. Fails at Start by Status (cannot bind); at run time a bad
// request gets 400/413/431 and closes, a failed TLS handshake just closes.
#include "admin/admin_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <unordered_map>

#include "common/log.h"

namespace sw::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

struct AdminServer::State {
  State(asio::io_context& i, Handler h, AdminServerOptions o)
      : io(i), handler(std::move(h)), options(o) {}
  asio::io_context& io;
  Handler handler;
  AdminServerOptions options;
  std::unique_ptr<tcp::acceptor> acceptor;
  // Closes each open connection's socket (for Stop).
  std::unordered_map<uint64_t, std::function<void()>> connections;
  uint64_t next_id = 1;
  bool stopping = false;
};

namespace {

using State = AdminServer::State;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// A fixed field of every HTTPS response: browsers stay on HTTPS for this host for a year.
constexpr const char* kHsts = "max-age=31536000";

std::string EndpointText(const tcp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

// The response to a request Beast could not parse (status per error), or 0 to just close.
unsigned StatusForReadError(const boost::system::error_code& ec) {
  if (ec == http::error::body_limit) return 413;
  if (ec == http::error::header_limit) return 431;
  if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message &&
      ec != http::error::need_more)
    return 400;
  return 0;
}

template <class Stream>
asio::awaitable<void> WriteAndClose(std::shared_ptr<State> s, std::shared_ptr<Stream> stream,
                                    http::response<http::string_body> res) {
  res.keep_alive(false);
  res.prepare_payload();
  beast::get_lowest_layer(*stream).expires_after(s->options.write_timeout);
  co_await http::async_write(*stream, res, asio::as_tuple(asio::use_awaitable));
}

http::response<http::string_body> ToBeast(HttpResponse r, unsigned version) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "spamweeder");
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::cache_control, "no-store");
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.body() = std::move(r.body);
  return res;
}

HttpResponse PlainError(unsigned status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.body = "{\"error\":\"" + message + "\"}\n";  // fixed ASCII messages only
  return r;
}

template <class Stream>
asio::awaitable<void> Session(std::shared_ptr<State> s, std::shared_ptr<Stream> stream,
                              bool secure) {
  auto& lowest = beast::get_lowest_layer(*stream);
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(s->options.header_limit);
    parser.body_limit(s->options.body_limit);
    lowest.expires_after(s->options.read_timeout);
    auto [ec, n] =
        co_await http::async_read(*stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (s->stopping) break;
    if (ec) {
      if (unsigned status = StatusForReadError(ec)) {
        const char* what = status == 413   ? "request body too large"
                           : status == 431 ? "request header too large"
                                           : "malformed request";
        co_await WriteAndClose(s, stream, ToBeast(PlainError(status, what), 11));
      }
      break;
    }
    auto& req = parser.get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.authorization = std::string(req[http::field::authorization]);
    request.if_match = std::string(req[http::field::if_match]);
    request.host = std::string(req[http::field::host]);
    request.cookie = std::string(req[http::field::cookie]);
    request.content_type = std::string(req[http::field::content_type]);
    request.csrf = std::string(req["X-CSRF-Token"]);
    boost::system::error_code pec;
    auto peer = lowest.socket().remote_endpoint(pec);
    if (!pec) request.client_ip = peer.address().to_string();
    request.secure = secure;
    request.body = std::move(req.body());
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    HttpResponse response = co_await s->handler(std::move(request));
    if (s->stopping) break;
    auto res = ToBeast(std::move(response), version);
    if (secure) res.set(http::field::strict_transport_security, kHsts);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    lowest.expires_after(s->options.write_timeout);
    auto [wec, wn] = co_await http::async_write(*stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !keep_alive) break;
  }
  boost::system::error_code ignored;
  lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
  lowest.close();
}

// HTTPS: the handshake under the read timeout, then the same session.
asio::awaitable<void> TlsSession(std::shared_ptr<State> s, std::shared_ptr<TlsStream> stream,
                                 std::shared_ptr<ServerTls> keep_contexts) {
  auto& lowest = beast::get_lowest_layer(*stream);
  lowest.expires_after(s->options.read_timeout);
  auto [ec] = co_await stream->async_handshake(asio::ssl::stream_base::server,
                                               asio::as_tuple(asio::use_awaitable));
  if (ec || s->stopping) {
    if (ec && !s->stopping)
      log::Debug("tls_handshake_failed").kv("service", "admin").kv("reason", ec.message());
    lowest.close();
    co_return;
  }
  co_await Session(s, stream, true);
  (void)keep_contexts;  // the contexts outlive the stream that refers to them
}

asio::awaitable<void> AcceptLoop(std::shared_ptr<State> s) {
  asio::steady_timer backoff(s->io);
  for (;;) {
    auto [ec, sock] = co_await s->acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (s->stopping) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      log::Warn("accept_failed").kv("service", "admin").kv("reason", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));  // EMFILE: do not spin
      co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (s->connections.size() >= s->options.max_connections) {
      log::Warn("reject").kv("service", "admin").kv("reason", "too many admin connections");
      boost::system::error_code ignored;
      sock.close(ignored);
      continue;
    }
    uint64_t id = s->next_id++;
    auto done = [s, id](std::exception_ptr) { s->connections.erase(id); };
    if (auto tls = s->options.tls) {
      auto stream = std::make_shared<TlsStream>(std::move(sock), tls->context());
      s->connections[id] = [w = std::weak_ptr<TlsStream>(stream)] {
        if (auto st = w.lock()) beast::get_lowest_layer(*st).close();
      };
      asio::co_spawn(s->io, TlsSession(s, stream, tls), done);
    } else {
      auto stream = std::make_shared<beast::tcp_stream>(std::move(sock));
      s->connections[id] = [w = std::weak_ptr<beast::tcp_stream>(stream)] {
        if (auto st = w.lock()) st->close();
      };
      asio::co_spawn(s->io, Session(s, stream, false), done);
    }
  }
}

}  // namespace

AdminServer::AdminServer(asio::io_context& io, config::ListenAddress listen, Handler handler,
                         AdminServerOptions options)
    : listen_(std::move(listen)),
      state_(std::make_shared<State>(io, std::move(handler), options)) {}

AdminServer::~AdminServer() { Stop(); }

Status AdminServer::Start() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(listen_.host, ec);
  if (ec) return Status(Status::Code::kInvalid, "bad admin listen address " + listen_.host);
  tcp::endpoint ep(addr, listen_.port);
  auto acc = std::make_unique<tcp::acceptor>(state_->io);
  acc->open(ep.protocol(), ec);
  if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(64, ec);
  if (ec) {
    return Status(Status::Code::kUnavailable,
                  "cannot listen on " + listen_.ToString() + " (admin): " + ec.message());
  }
  log::Info("listening")
      .kv("service", "admin")
      .kv("addr", EndpointText(acc->local_endpoint()))
      .kv("tls", state_->options.tls ? "yes" : "no");
  state_->acceptor = std::move(acc);
  asio::co_spawn(state_->io, AcceptLoop(state_), asio::detached);
  return Status::Ok();
}

void AdminServer::Stop() {
  if (state_->stopping) return;
  state_->stopping = true;
  boost::system::error_code ignored;
  if (state_->acceptor) state_->acceptor->close(ignored);
  auto closers = state_->connections;  // closing may end sessions that erase themselves
  for (auto& [id, close] : closers) close();
}

void AdminServer::SetTls(std::shared_ptr<ServerTls> tls) {
  if (tls) state_->options.tls = std::move(tls);
}

tcp::endpoint AdminServer::local_endpoint() const {
  boost::system::error_code ec;
  if (!state_->acceptor) return {};
  return state_->acceptor->local_endpoint(ec);
}

size_t AdminServer::connections() const { return state_->connections.size(); }

}  // namespace sw::admin
