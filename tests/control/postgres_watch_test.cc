// Tests how nodes follow each other through the PostgreSQL store (issue 12 item 2): the change
// version and its notifications, two control planes on one database, and the watch across a
// server outage (one down event, fast failures meanwhile, then up again).
// Fails with a GoogleTest assertion.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "control/control_plane.h"
#include "control/postgres_control_store.h"
#include "tests/control/postgres_test_support.h"

namespace sw::control {
namespace {

using namespace std::chrono_literals;

// Watch events collected from the watching thread.
struct Events {
  std::mutex mu;
  std::vector<ControlStore::WatchEvent> seen;
  void Add(const ControlStore::WatchEvent& e) {
    std::lock_guard lock(mu);
    seen.push_back(e);
  }
  template <typename Pred>
  bool WaitFor(Pred pred, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      {
        std::lock_guard lock(mu);
        for (const auto& e : seen)
          if (pred(e)) return true;
      }
      if (std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::sleep_for(10ms);
    }
  }
  size_t Count(bool up) {
    std::lock_guard lock(mu);
    size_t n = 0;
    for (const auto& e : seen) n += e.up == up;
    return n;
  }
};

class PostgresWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    url_ = pgtest::FreshDatabase("swpw_" + std::to_string(::getpid()) + "_" + info->name(), &why);
    ASSERT_FALSE(url_.empty()) << why;
  }
  std::unique_ptr<PostgresControlStore> Open(const std::string& url) {
    Status st;
    auto s = PostgresControlStore::Open(url, &st);
    EXPECT_TRUE(s) << st.message();
    return s;
  }
  std::string url_;
};

TEST_F(PostgresWatchTest, TenantCommitsRaiseTheVersionAndNotifyOtherInstances) {
  auto a = Open(url_);
  auto b = Open(url_);
  ASSERT_TRUE(a && b);
  Events events;
  ASSERT_TRUE(b->WatchChanges([&](const ControlStore::WatchEvent& e) { events.Add(e); }));
  ASSERT_TRUE(events.WaitFor([](auto& e) { return e.up && e.version == 0; }, 3s));
  uint64_t v = 99;
  ChangeSet alert;
  alert.puts = {{"a/x", "{}"}, {"u/y", "{}"}};
  ASSERT_TRUE(a->CommitVersioned(alert, &v).ok());
  EXPECT_EQ(v, 0u) << "alert and usage records are not followed";
  ChangeSet domain;
  domain.puts = {{"d/x.test", "{}"}};
  ASSERT_TRUE(a->CommitVersioned(domain, &v).ok());
  EXPECT_EQ(v, 1u);
  bool applied = false;
  ChangeSet token;
  token.deletes = {"t/t_1"};
  ASSERT_TRUE(a->CommitIfAbsent("a/guard", token, &applied).ok());
  ASSERT_TRUE(applied);
  ASSERT_TRUE(a->ChangeVersion(&v).ok());
  EXPECT_EQ(v, 2u) << "a delete of a token counts too";
  EXPECT_TRUE(events.WaitFor([](auto& e) { return e.version == 2; }, 3s));
  b->StopWatching();
  size_t n = events.seen.size();
  // A third instance still watching sees the next change: by then B would have seen it too.
  auto c = Open(url_);
  ASSERT_TRUE(c);
  Events witness;
  ASSERT_TRUE(c->WatchChanges([&](const ControlStore::WatchEvent& e) { witness.Add(e); }));
  ASSERT_TRUE(witness.WaitFor([](auto& e) { return e.up; }, 3s));
  ASSERT_TRUE(a->Commit(domain).ok());
  ASSERT_TRUE(witness.WaitFor([](auto& e) { return e.version == 3; }, 3s));
  EXPECT_EQ(events.seen.size(), n) << "no event after StopWatching";
}

// Two control planes, as two nodes: a domain applied on A is in B's table without a restart;
// A does not reload (nor publish again) for its own write.
TEST_F(PostgresWatchTest, TwoControlPlanesFollowEachOther) {
  auto sa = Open(url_);
  auto sb = Open(url_);
  ASSERT_TRUE(sa && sb);
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  auto cfg = std::make_shared<config::Config>();
  int published_a = 0, published_b = 0;
  ControlPlane a(io, *sa, cfg, [&](auto) { ++published_a; });
  ControlPlane b(io, *sb, cfg, [&](auto) { ++published_b; });
  ASSERT_TRUE(a.Load().ok());
  ASSERT_TRUE(b.Load().ok());
  a.StartWatching();
  b.StartWatching();
  Mutation m;
  DomainRecord d;
  d.domain.name = "follow.test";
  d.domain.source = config::DomainSource::kApi;
  m.domains.push_back(d);
  ASSERT_TRUE(a.Apply(ControlPlane::OperatorPrincipal(), "127.0.0.1", m).ok());
  EXPECT_EQ(a.applied_version(), 1u);
  auto start = std::chrono::steady_clock::now();
  while (!b.FindDomain("follow.test") && std::chrono::steady_clock::now() - start < 3s)
    io.run_for(10ms);
  ASSERT_TRUE(b.FindDomain("follow.test")) << "B never saw A's domain";
  EXPECT_TRUE(b.Effective()->domains.count("follow.test")) << "B's table was not rebuilt";
  EXPECT_GE(published_b, 1);
  EXPECT_EQ(b.applied_version(), 1u);
  io.run_for(1500ms);  // a poll or two on both
  EXPECT_EQ(published_a, 1) << "A published again for its own write";
  EXPECT_TRUE(a.StoreUp() && b.StoreUp());
  a.StopWatching();
  b.StopWatching();
}

// The server stops: one down event however long it lasts, every call fails at once (no connect
// timeout); it starts again: up with the version, calls work.
TEST(PostgresWatchOutage, DownOncePerOutageFailFastThenUp) {
  pgtest::PrivateCluster cluster;
  std::string why;
  ASSERT_TRUE(cluster.Start(&why)) << why;
  Status st;
  auto s = PostgresControlStore::Open(cluster.url(), &st);
  ASSERT_TRUE(s) << st.message();
  Events events;
  ASSERT_TRUE(s->WatchChanges([&](const ControlStore::WatchEvent& e) { events.Add(e); }));
  ASSERT_TRUE(events.WaitFor([](auto& e) { return e.up; }, 3s));
  ASSERT_TRUE(cluster.Stop(&why)) << why;
  ASSERT_TRUE(events.WaitFor([](auto& e) { return !e.up; }, 3s)) << "no down event";
  std::this_thread::sleep_for(2500ms);  // failed reconnects
  EXPECT_EQ(events.Count(false), 1u);
  std::string v;
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(s->Get("d/x", &v).code(), Status::Code::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms) << "a call waited for the server";
  size_t ups = events.Count(true);
  ASSERT_TRUE(cluster.Start(&why)) << why;
  auto end = std::chrono::steady_clock::now() + 5s;
  while (events.Count(true) == ups && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(20ms);
  ASSERT_GT(events.Count(true), ups) << "no up event after the server returned";
  EXPECT_EQ(s->Get("d/x", &v).code(), Status::Code::kNotFound) << "calls work again";
}

}  // namespace
}  // namespace sw::control
