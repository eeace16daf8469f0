// Owns every blocking MX lookup of the process: a fixed pool of named worker threads shared by
// all MX-routed destinations, one lookup per domain at a time, answers cached (bounded).
// Fails by MxAnswer::error, never by exception; answers come back on the caller's executor.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "routing/mx_cache.h"
#include "routing/mx_lookup.h"

namespace sw::routing {

class MxResolver {
 public:
  // Blocking; runs on a worker thread. `servers` empty: the system resolver.
  using Lookup = std::function<MxAnswer(const std::string& domain,
                                        const std::vector<config::ListenAddress>& servers)>;
  // Threads are named "sw-mx-resolver" (/proc/<pid>/task/*/comm) and live until Stop().
  MxResolver(uint32_t threads, size_t cache_entries, Lookup lookup = LookupMx);
  ~MxResolver();
  MxResolver(const MxResolver&) = delete;
  MxResolver& operator=(const MxResolver&) = delete;

  // `dns.servers` (SIGHUP may change them): used by the next lookups.
  void SetServers(std::vector<config::ListenAddress> servers);
  // A cached answer at once, else a lookup on the pool; identical lookups in flight share one.
  boost::asio::awaitable<MxAnswer> Resolve(std::string domain);
  // Joins the workers (a lookup in progress ends by its DNS timeout) and drops the callers
  // still waiting without answering them. Call while their io_contexts still exist.
  void Stop();

  // Introspection (tests, logs).
  size_t threads() const { return threads_.size(); }
  size_t cached() const;
  uint64_t lookups() const { return lookups_.load(); }

 private:
  using Waiter = std::function<void(MxAnswer)>;
  // Answers `w` from the cache, joins a lookup in flight, or starts one.
  void Enqueue(const std::string& domain, Waiter w);
  void Work(const std::string& domain);

  Lookup lookup_;
  boost::asio::io_context work_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> lookups_{0};
  mutable std::mutex mu_;  // guards everything below
  MxCache cache_;
  std::unordered_map<std::string, std::vector<Waiter>> inflight_;
  std::vector<config::ListenAddress> servers_;
  bool stopped_ = false;
};

}  // namespace sw::routing
