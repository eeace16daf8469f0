// Owns every blocking MX lookup of the process: a fixed pool of named worker threads shared by
// all MX-routed destinations, one lookup per domain at a time, answers cached (bounded).
// Fails by MxAnswer::error, never by exception; answers come back on the caller's executor.
#include "routing/mx_resolver.h"

#include <pthread.h>

#include <algorithm>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace sw::routing {

namespace asio = boost::asio;

namespace {
constexpr auto kAnswerTtl = std::chrono::minutes(5);
constexpr auto kErrorTtl = std::chrono::seconds(30);
}  // namespace

MxResolver::MxResolver(uint32_t threads, size_t cache_entries, Lookup lookup)
    : lookup_(std::move(lookup)), guard_(work_.get_executor()), cache_(cache_entries) {
  for (uint32_t i = 0; i < std::max<uint32_t>(1, threads); ++i) {
    threads_.emplace_back([this] { work_.run(); });
    pthread_setname_np(threads_.back().native_handle(), "sw-mx-resolver");
  }
}

MxResolver::~MxResolver() { Stop(); }

void MxResolver::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  guard_.reset();
  work_.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  std::unordered_map<std::string, std::vector<Waiter>> dropped;
  std::lock_guard lock(mu_);
  dropped.swap(inflight_);
}

void MxResolver::SetServers(std::vector<config::ListenAddress> servers) {
  std::lock_guard lock(mu_);
  servers_ = std::move(servers);
}

size_t MxResolver::cached() const {
  std::lock_guard lock(mu_);
  return cache_.size();
}

asio::awaitable<MxAnswer> MxResolver::Resolve(std::string domain) {
  {
    std::unique_lock lock(mu_);
    std::optional<MxAnswer> hit = cache_.Get(domain, MxCache::clock::now());
    lock.unlock();
    if (hit) co_return std::move(*hit);
  }
  // Tracked: the caller's io_context does not run out of work while its lookup is pending.
  asio::any_io_executor ex =
      asio::prefer(co_await asio::this_coro::executor, asio::execution::outstanding_work.tracked);
  auto init = [this, ex, &domain](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    Enqueue(domain, [ex, h](MxAnswer a) {
      asio::post(ex, [h, a = std::move(a)]() mutable { (*h)(std::move(a)); });
    });
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(MxAnswer)>(
      init, asio::use_awaitable);
}

void MxResolver::Enqueue(const std::string& domain, Waiter w) {
  std::unique_lock lock(mu_);
  if (stopped_) return;  // shutting down: the caller is dropped, never answered
  if (std::optional<MxAnswer> hit = cache_.Get(domain, MxCache::clock::now())) {
    lock.unlock();
    w(std::move(*hit));  // answered meanwhile: w posts to the caller's executor
    return;
  }
  auto [it, first] = inflight_.try_emplace(domain);
  it->second.push_back(std::move(w));
  if (first) asio::post(work_, [this, domain] { Work(domain); });
}

void MxResolver::Work(const std::string& domain) {
  std::vector<config::ListenAddress> servers;
  {
    std::lock_guard lock(mu_);
    servers = servers_;
  }
  MxAnswer answer = lookup_(domain, servers);
  ++lookups_;
  std::vector<Waiter> waiters;
  {
    std::lock_guard lock(mu_);
    auto ttl = answer.error.empty() ? MxCache::clock::duration(kAnswerTtl)
                                    : MxCache::clock::duration(kErrorTtl);
    cache_.Put(domain, answer, MxCache::clock::now() + ttl);
    auto it = inflight_.find(domain);
    if (it != inflight_.end()) {
      waiters.swap(it->second);
      inflight_.erase(it);
    }
  }
  for (auto& w : waiters) w(answer);
}

}  // namespace sw::routing
