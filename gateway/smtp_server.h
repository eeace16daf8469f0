// Owns the inbound listeners: accept loops, connection caps (total, per IP), graceful stop.
// Fails at start by Status (cannot bind); at run time a refused connection gets 421 4.7.0.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "gateway/gateway_context.h"

namespace sw::gateway {

class SmtpSession;

class SmtpServer {
 public:
  SmtpServer(boost::asio::io_context& io, GatewayContext& ctx);
  // Binds every `server.listen` address; logs `event=listening addr=IP:PORT` for each.
  Status Start();
  // Stops accepting; idle sessions get 421 4.3.2, transactions in flight finish.
  void Stop();
  size_t sessions() const { return sessions_.size(); }
  std::vector<boost::asio::ip::tcp::endpoint> endpoints() const;

 private:
  boost::asio::awaitable<void> AcceptLoop(boost::asio::ip::tcp::acceptor& acceptor);
  boost::asio::awaitable<void> Refuse(boost::asio::ip::tcp::socket sock, std::string why);

  boost::asio::io_context& io_;
  GatewayContext& ctx_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::unordered_map<uint64_t, std::weak_ptr<SmtpSession>> sessions_;
  std::unordered_map<std::string, uint32_t> per_ip_;
  uint64_t next_sid_ = 1;
  bool stopping_ = false;
  // accept() failures (EMFILE, ENFILE, ENOBUFS): one log line per kAcceptErrorLogEvery.
  std::chrono::steady_clock::time_point accept_error_logged_{};
  uint64_t accept_errors_unlogged_ = 0;
};

}  // namespace sw::gateway
