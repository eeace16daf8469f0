// Owns the per-endpoint ("ip:port") pools of SMTP connections: idle reuse, limits, FIFO waiters.
// Fails soft: broken connections are discarded on release; Acquire only fails when cancelled.
#include "routing/connection_pool.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sw::routing {
namespace asio = boost::asio;

ConnectionPool::ConnectionPool(asio::any_io_executor ex, uint32_t max_per_endpoint,
                               config::Duration idle_timeout)
    : ex_(ex),
      max_(std::max<uint32_t>(max_per_endpoint, 1)),
      idle_timeout_(idle_timeout),
      sweep_timer_(ex),
      alive_(std::make_shared<char>(0)) {}

// Precondition (see SmtpDestination): no Acquire is in flight. Idle connections get their QUIT.
ConnectionPool::~ConnectionPool() { Close(); }

asio::awaitable<ConnectionPool::Lease> ConnectionPool::Acquire(const std::string& key) {
  Endpoint& e = endpoints_[key];  // node-based map: the reference survives suspension
  ReapExpired(e, clock::now());
  while (!e.idle.empty()) {
    std::shared_ptr<SmtpConnection> conn = std::move(e.idle.back());
    e.idle.pop_back();
    if (conn->usable()) co_return Lease{std::move(conn), true};
    --e.open;
  }
  if (e.open < max_ && e.waiters.empty()) {
    ++e.open;
    co_return Lease{nullptr, true};
  }
  auto w = std::make_shared<Waiter>(ex_);
  w->timer.expires_at(asio::steady_timer::time_point::max());
  e.waiters.push_back(w);
  auto [ec] = co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;           // cancel() is how a slot is handed over
  if (!w->granted) {  // cancelled from outside (or the pool is going away)
    auto it = std::find(e.waiters.begin(), e.waiters.end(), w);
    if (it != e.waiters.end()) e.waiters.erase(it);
    co_return Lease{};
  }
  co_return Lease{std::move(w->conn), true};
}

void ConnectionPool::Wake(Endpoint& e, std::shared_ptr<SmtpConnection> conn) {
  std::shared_ptr<Waiter> w = std::move(e.waiters.front());
  e.waiters.pop_front();
  w->conn = std::move(conn);
  w->granted = true;
  w->timer.cancel();
}

void ConnectionPool::Release(const std::string& key, std::shared_ptr<SmtpConnection> conn) {
  auto it = endpoints_.find(key);
  if (it == endpoints_.end()) {  // not leased here; just close it
    if (conn) Retire(std::move(conn));
    return;
  }
  Endpoint& e = it->second;
  if (conn && conn->usable() && !closed_) {
    if (!e.waiters.empty()) {
      Wake(e, std::move(conn));
      return;
    }
    const auto now = clock::now();
    conn->set_idle_since(now);
    e.idle.push_back(std::move(conn));
    ArmSweep(now + idle_timeout_);
    return;
  }
  if (conn) Retire(std::move(conn));
  if (!e.waiters.empty()) {
    Wake(e, nullptr);  // the slot passes on: the waiter opens a new connection
    return;
  }
  if (e.open > 0) --e.open;
}

void ConnectionPool::Retire(std::shared_ptr<SmtpConnection> conn) {
  if (!conn->usable()) {
    conn->Abort();
    return;
  }
  asio::co_spawn(
      ex_, [c = std::move(conn)]() -> asio::awaitable<void> { co_await c->Quit(); },
      asio::detached);
}

void ConnectionPool::ReapExpired(Endpoint& e, clock::time_point now) {
  while (!e.idle.empty() && e.idle.front()->idle_since() + idle_timeout_ <= now) {
    std::shared_ptr<SmtpConnection> conn = std::move(e.idle.front());
    e.idle.pop_front();
    --e.open;
    Retire(std::move(conn));
  }
}

void ConnectionPool::ArmSweep(clock::time_point at) {
  if (sweep_at_ <= at) return;  // an earlier sweep will re-arm for this one
  sweep_at_ = at;
  sweep_timer_.expires_at(at);
  sweep_timer_.async_wait(
      [this, alive = std::weak_ptr<char>(alive_)](const boost::system::error_code& ec) {
        if (ec || alive.expired()) return;
        sweep_at_ = clock::time_point::max();
        Sweep();
      });
}

void ConnectionPool::Sweep() {
  const auto now = clock::now();
  auto next = clock::time_point::max();
  for (auto& [key, e] : endpoints_) {
    ReapExpired(e, now);
    if (!e.idle.empty()) next = std::min(next, e.idle.front()->idle_since() + idle_timeout_);
  }
  if (next != clock::time_point::max()) ArmSweep(next);
}

void ConnectionPool::Close() {
  closed_ = true;
  for (auto& [key, e] : endpoints_) {
    while (!e.idle.empty()) {
      std::shared_ptr<SmtpConnection> conn = std::move(e.idle.front());
      e.idle.pop_front();
      --e.open;
      Retire(std::move(conn));
    }
  }
  sweep_timer_.cancel();
  sweep_at_ = clock::time_point::max();
}

size_t ConnectionPool::open(const std::string& key) const {
  auto it = endpoints_.find(key);
  return it == endpoints_.end() ? 0 : it->second.open;
}

size_t ConnectionPool::idle(const std::string& key) const {
  auto it = endpoints_.find(key);
  return it == endpoints_.end() ? 0 : it->second.idle.size();
}

size_t ConnectionPool::waiting(const std::string& key) const {
  auto it = endpoints_.find(key);
  return it == endpoints_.end() ? 0 : it->second.waiters.size();
}

}  // namespace sw::routing
