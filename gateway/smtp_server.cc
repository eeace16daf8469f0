// Owns the inbound listeners: accept loops, connection caps (total, per IP), graceful stop.
// Fails at start by Status (cannot bind); at run time a refused connection gets 421 4.7.0.
#include "gateway/smtp_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "common/log.h"
#include "common/metrics.h"
#include "gateway/smtp_session.h"

namespace sw::gateway {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// After a failed accept() (out of file descriptors, say) the pending connection is still in
// the backlog: retrying at once would spin and log at full speed. Pause, as Postfix does, and
// log the condition at most once per interval with the count of repeats.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
constexpr auto kAcceptErrorLogEvery = std::chrono::seconds(10);

}  // namespace

SmtpServer::SmtpServer(asio::io_context& io, GatewayContext& ctx) : io_(io), ctx_(ctx) {}

Status SmtpServer::Start() {
  for (const auto& la : ctx_.config->server.listen) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(la.host, ec);
    if (ec) return Status(Status::Code::kInvalid, "bad listen address " + la.host);
    tcp::endpoint ep(addr, la.port);
    auto acc = std::make_unique<tcp::acceptor>(io_);
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(1024, ec);
    if (ec) {
      return Status(Status::Code::kUnavailable, "cannot listen on " + la.host + ":" +
                                                    std::to_string(la.port) + ": " + ec.message());
    }
    auto bound = acc->local_endpoint();
    log::Info("listening")
        .kv("service", "smtp")
        .kv("addr", bound.address().to_string() + ":" + std::to_string(bound.port()));
    acceptors_.push_back(std::move(acc));
  }
  for (auto& acc : acceptors_) asio::co_spawn(io_, AcceptLoop(*acc), asio::detached);
  return Status::Ok();
}

std::vector<tcp::endpoint> SmtpServer::endpoints() const {
  std::vector<tcp::endpoint> out;
  for (const auto& a : acceptors_) {
    boost::system::error_code ec;
    auto ep = a->local_endpoint(ec);
    if (!ec) out.push_back(ep);
  }
  return out;
}

void SmtpServer::Stop() {
  stopping_ = true;
  for (auto& a : acceptors_) {
    boost::system::error_code ec;
    a->close(ec);
  }
  for (auto& [id, w] : sessions_)
    if (auto s = w.lock()) s->Shutdown();
}

asio::awaitable<void> SmtpServer::Refuse(tcp::socket sock, std::string why) {
  std::string msg = "421 4.7.0 " + ctx_.config->server.hostname + " Error: " + why + "\r\n";
  co_await asio::async_write(sock, asio::buffer(msg), asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ec;
  sock.shutdown(tcp::socket::shutdown_both, ec);
}

asio::awaitable<void> SmtpServer::AcceptLoop(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (stopping_) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // EMFILE and friends: keep serving the sessions we have, retry after a pause.
      auto now = std::chrono::steady_clock::now();
      if (now - accept_error_logged_ >= kAcceptErrorLogEvery) {
        log::Warn("accept_failed")
            .kv("reason", ec.message())
            .kv("repeats", accept_errors_unlogged_)
            .kv("sessions", sessions_.size());
        accept_error_logged_ = now;
        accept_errors_unlogged_ = 0;
      } else {
        ++accept_errors_unlogged_;
      }
      metrics::Rejected("accept_failed");
      asio::steady_timer pause(io_, kAcceptRetryDelay);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      if (stopping_) co_return;
      continue;
    }
    boost::system::error_code pec;
    std::string ip = sock.remote_endpoint(pec).address().to_string();
    const auto& sc = ctx_.config->server;
    if (sessions_.size() >= sc.max_connections) {
      log::Info("reject").kv("client", ip).kv("reason", "too many connections");
      metrics::Rejected("too_many_connections");
      asio::co_spawn(io_, Refuse(std::move(sock), "too many connections"), asio::detached);
      continue;
    }
    if (per_ip_[ip] >= sc.max_connections_per_ip) {
      log::Info("reject").kv("client", ip).kv("reason", "too many connections from this IP");
      metrics::Rejected("too_many_connections");
      asio::co_spawn(io_, Refuse(std::move(sock), "too many connections from your IP"),
                     asio::detached);
      continue;
    }
    uint64_t sid = next_sid_++;
    auto session = std::make_shared<SmtpSession>(std::move(sock), ctx_, sid);
    sessions_[sid] = session;
    ++per_ip_[ip];
    asio::co_spawn(
        io_, [session]() { return session->Run(); },
        [this, sid, ip](std::exception_ptr) {
          sessions_.erase(sid);
          auto it = per_ip_.find(ip);
          if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
        });
  }
}

}  // namespace sw::gateway
