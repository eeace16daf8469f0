// Owns the per-endpoint ("ip:port") pools of SMTP connections: idle reuse, limits, FIFO waiters.
// Fails soft: broken connections are discarded on release; Acquire only fails when cancelled.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "config/config.h"
#include "routing/smtp_connection.h"

namespace sw::routing {

// Single-threaded: every call runs on the executor's (one-threaded) io_context.
class ConnectionPool {
 public:
  using clock = std::chrono::steady_clock;

  // At most `max_per_endpoint` connections open (busy + idle) per endpoint; an idle
  // connection is closed (QUIT) after `idle_timeout`.
  ConnectionPool(boost::asio::any_io_executor ex, uint32_t max_per_endpoint,
                 config::Duration idle_timeout);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // One slot at an endpoint: reuse `conn` when set, else open a new connection in it.
  struct Lease {
    std::shared_ptr<SmtpConnection> conn;
    bool granted = false;  // false: the wait was cancelled; nothing to release
  };
  // Takes the most recently used idle connection, or a free slot, or waits (FIFO) until a
  // busy connection is released. Every granted lease must be given back with Release().
  boost::asio::awaitable<Lease> Acquire(const std::string& key);
  // Gives a slot back. A usable connection goes to the first waiter or becomes idle; a null or
  // unusable one is closed and its slot passes to the first waiter or is freed.
  void Release(const std::string& key, std::shared_ptr<SmtpConnection> conn);
  // Closes idle connections (QUIT in the background); from now on released connections are
  // closed instead of kept.
  void Close();

  // Introspection (tests, metrics).
  size_t open(const std::string& key) const;
  size_t idle(const std::string& key) const;
  size_t waiting(const std::string& key) const;

 private:
  struct Waiter {
    explicit Waiter(boost::asio::any_io_executor ex) : timer(std::move(ex)) {}
    boost::asio::steady_timer timer;  // waits "forever"; cancel() is the wake-up
    std::shared_ptr<SmtpConnection> conn;
    bool granted = false;
  };
  struct Endpoint {
    uint32_t open = 0;                                 // busy + idle
    std::deque<std::shared_ptr<SmtpConnection>> idle;  // oldest first
    std::deque<std::shared_ptr<Waiter>> waiters;
  };

  void Retire(std::shared_ptr<SmtpConnection> conn);  // QUIT in the background, or abort
  void ReapExpired(Endpoint& e, clock::time_point now);
  void ArmSweep(clock::time_point at);
  void Sweep();
  void Wake(Endpoint& e, std::shared_ptr<SmtpConnection> conn);

  boost::asio::any_io_executor ex_;
  const uint32_t max_;
  const config::Duration idle_timeout_;
  std::unordered_map<std::string, Endpoint> endpoints_;
  boost::asio::steady_timer sweep_timer_;
  clock::time_point sweep_at_ = clock::time_point::max();
  bool closed_ = false;
  std::shared_ptr<char> alive_;  // timer handlers hold a weak_ptr: no use after destruction
};

}  // namespace sw::routing
