// Tests the shared MX resolver: a fixed pool of named threads however many domains are looked
// up, answers back on the caller's executor, identical lookups shared, a bounded LRU cache.
#include "routing/mx_resolver.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "routing/mx_cache.h"

namespace sw::routing {
namespace {

namespace asio = boost::asio;
using Servers = std::vector<config::ListenAddress>;

// Threads of this process, and those named `name` (/proc/self/task/*/comm).
size_t Threads(const std::string& name = "") {
  size_t n = 0;
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    if (name.empty()) {
      ++n;
      continue;
    }
    std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string line;
    std::getline(comm, line);
    if (line == name) ++n;
  }
  closedir(dir);
  return n;
}

// Runs `io` until `done` holds (at most 60 s).
template <typename Pred>
bool RunUntil(asio::io_context& io, Pred done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done() && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(std::chrono::milliseconds(100));
  return done();
}

TEST(MxResolver, ThousandsOfDomainsShareAFixedPool) {
  const size_t before = Threads();
  std::mutex mu;
  std::set<std::thread::id> workers;
  std::atomic<int> running = 0, most = 0;
  std::atomic<size_t> most_threads = 0;
  MxResolver resolver(3, 100000, [&](const std::string& domain, const Servers&) {
    int now = ++running;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    size_t t = Threads();
    size_t m = most_threads.load();
    while (t > m && !most_threads.compare_exchange_weak(m, t)) {
    }
    {
      std::lock_guard lock(mu);
      workers.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // a slow DNS server
    --running;
    return MxAnswer{{"mx." + domain}, false, ""};
  });
  EXPECT_EQ(resolver.threads(), 3u);
  EXPECT_EQ(Threads("sw-mx-resolver"), 3u);
  EXPECT_EQ(Threads(), before + 3);

  constexpr int kDomains = 5000;
  asio::io_context io(1);
  const auto io_thread = std::this_thread::get_id();
  int answered = 0, right = 0, on_io = 0;
  for (int i = 0; i < kDomains; ++i)
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          std::string domain = "d" + std::to_string(i) + ".remote.example";
          MxAnswer a = co_await resolver.Resolve(domain);
          ++answered;
          if (a.hosts == std::vector<std::string>{"mx." + domain}) ++right;
          if (std::this_thread::get_id() == io_thread) ++on_io;
        },
        asio::detached);
  ASSERT_TRUE(RunUntil(io, [&] { return answered == kDomains; })) << answered;
  EXPECT_EQ(right, kDomains);
  EXPECT_EQ(on_io, kDomains) << "answers must come back on the caller's executor";
  EXPECT_EQ(resolver.lookups(), static_cast<uint64_t>(kDomains));
  EXPECT_EQ(workers.size(), 3u) << "every lookup on the pool's threads";
  EXPECT_EQ(most.load(), 3) << "at most `threads` lookups at once, and all of them used";
  EXPECT_LE(most_threads.load(), before + 3) << "no thread per domain";
  EXPECT_EQ(Threads(), before + 3);
  resolver.Stop();
  EXPECT_EQ(Threads("sw-mx-resolver"), 0u);
}

TEST(MxResolver, IdenticalLookupsInFlightShareOneAndTheAnswerIsCached) {
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> lookups = 0;
  MxResolver resolver(2, 100, [&](const std::string&, const Servers&) {
    ++lookups;
    gate.wait();
    return MxAnswer{{"mx.same.example"}, false, ""};
  });
  asio::io_context io(1);
  int answered = 0;
  auto ask = [&]() -> asio::awaitable<void> {
    MxAnswer a = co_await resolver.Resolve("same.example");
    if (a.hosts == std::vector<std::string>{"mx.same.example"}) ++answered;
  };
  for (int i = 0; i < 50; ++i) asio::co_spawn(io, ask(), asio::detached);
  io.poll();  // every caller is now waiting for the one lookup
  release.set_value();
  ASSERT_TRUE(RunUntil(io, [&] { return answered == 50; })) << answered;
  EXPECT_EQ(lookups.load(), 1);
  io.restart();  // it ran out of work
  asio::co_spawn(io, ask(), asio::detached);
  ASSERT_TRUE(RunUntil(io, [&] { return answered == 51; }));
  EXPECT_EQ(lookups.load(), 1) << "a fresh answer is served from the cache";
}

TEST(MxResolver, UsesTheConfiguredServers) {
  Servers seen;
  MxResolver resolver(1, 10, [&](const std::string&, const Servers& servers) {
    seen = servers;
    return MxAnswer{{}, true, ""};
  });
  resolver.SetServers({{"127.0.0.1", 5353}});
  asio::io_context io(1);
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        MxAnswer a = co_await resolver.Resolve("nomail.example");
        done = a.null_mx;
      },
      asio::detached);
  ASSERT_TRUE(RunUntil(io, [&] { return done; }));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].host, "127.0.0.1");
  EXPECT_EQ(seen[0].port, 5353);
}

TEST(MxCache, KeepsAtMostMaxEntriesDroppingTheLeastRecentlyUsed) {
  MxCache cache(3);
  auto now = MxCache::clock::now();
  auto later = now + std::chrono::minutes(5);
  for (const char* d : {"a", "b", "c"}) cache.Put(d, MxAnswer{{d}, false, ""}, later);
  ASSERT_TRUE(cache.Get("a", now));  // "a" used: "b" is now the least recently used
  cache.Put("d", MxAnswer{{"d"}, false, ""}, later);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.Get("b", now));
  EXPECT_TRUE(cache.Get("a", now));
  EXPECT_TRUE(cache.Get("c", now));
  EXPECT_EQ(cache.Get("d", now)->hosts, std::vector<std::string>{"d"});
  for (int i = 0; i < 1000; ++i) cache.Put("x" + std::to_string(i), MxAnswer{}, later);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(MxCache, ExpiredAnswersAreMisses) {
  MxCache cache(10);
  auto now = MxCache::clock::now();
  cache.Put("a", MxAnswer{{"mx.a"}, false, ""}, now + std::chrono::seconds(30));
  EXPECT_TRUE(cache.Get("a", now + std::chrono::seconds(29)));
  EXPECT_FALSE(cache.Get("a", now + std::chrono::seconds(30)));
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace sw::routing
