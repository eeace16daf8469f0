// Tests how nodes follow each other through the PostgreSQL store (issue 12 item 2): the change
// version and its notifications, two control planes on one database, and the watch across a
// server outage (one down event, fast failures meanwhile, then up again).
// Fails with a GoogleTest assertion.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
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
  EXPECT_EQ(b.follow_stats().full_reads, 0u) << "B read everything instead of the change log";
  EXPECT_EQ(b.follow_stats().records_changed, 1u);
  io.run_for(1500ms);  // a poll or two on both
  EXPECT_EQ(published_a, 1) << "A published again for its own write";
  EXPECT_TRUE(a.StoreUp() && b.StoreUp());
  a.StopWatching();
  b.StopWatching();
}

// B follows A through the change log: creates, updates and deletes of domains, tokens and
// customers arrive as just those records (no full read). With B stopped while A writes past
// the log's kept versions, B's next read is a full one, and B ends with A's state.
TEST_F(PostgresWatchTest, FollowerReadsTheChangeLogAndFallsBackToAFullRead) {
  auto sa = Open(url_);
  auto sb = Open(url_);
  ASSERT_TRUE(sa && sb);
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  auto cfg = std::make_shared<config::Config>();
  ControlPlane a(io, *sa, cfg, [](auto) {});
  ControlPlane b(io, *sb, cfg, [](auto) {});
  ASSERT_TRUE(a.Load().ok());
  ASSERT_TRUE(b.Load().ok());
  a.StartWatching();
  b.StartWatching();
  auto apply = [&](Mutation m) {
    ASSERT_TRUE(a.Apply(ControlPlane::OperatorPrincipal(), "127.0.0.1", std::move(m)).ok());
  };
  auto until = [&](const std::function<bool()>& pred) {
    auto start = std::chrono::steady_clock::now();
    while (!pred() && std::chrono::steady_clock::now() - start < 3s) io.run_for(10ms);
    return pred();
  };
  Mutation m1;
  DomainRecord d;
  d.domain.name = "log.test";
  d.domain.source = config::DomainSource::kApi;
  m1.domains.push_back(d);
  Customer c;
  c.id = "c_0000000000000001";
  c.name = "First";
  m1.customers.push_back(c);
  Token t;
  t.id = "t_0000000000000001";
  t.account = c.id;
  t.hash = ControlPlane::HashToken("sw_log_test_token");
  m1.tokens.push_back(t);
  apply(m1);
  ASSERT_TRUE(until([&] { return b.applied_version() == a.applied_version(); }));
  EXPECT_TRUE(b.FindDomain("log.test"));
  ASSERT_TRUE(b.FindCustomer(c.id));
  EXPECT_TRUE(b.Authenticate("sw_log_test_token")) << "a token made on A works on B";
  EXPECT_TRUE(b.Tenants()->customers.count(c.id)) << "B's tenant snapshot was not rebuilt";

  Mutation m2;  // an update, a delete of a token, a domain deleted (tombstone)
  c.name = "Renamed";
  m2.customers.push_back(c);
  m2.delete_tokens.push_back(t.id);
  d.domain.state = config::DomainState::kDeleted;
  m2.domains.push_back(d);
  apply(m2);
  ASSERT_TRUE(until([&] { return b.applied_version() == a.applied_version(); }));
  EXPECT_EQ(b.FindCustomer(c.id)->name, "Renamed");
  EXPECT_FALSE(b.Authenticate("sw_log_test_token")) << "revoked on A, still valid on B";
  EXPECT_FALSE(b.FindDomain("log.test"));
  EXPECT_EQ(b.follow_stats().full_reads, 0u);
  EXPECT_GE(b.follow_stats().change_reads, 1u);
  EXPECT_EQ(b.follow_stats().records_changed, 6u) << "3 records created, then 3 changed";

  // B away while A writes 3 versions and keeps 1 in its log: B's next read is a full one.
  b.StopWatching();
  sa->set_change_log_keep(1);
  for (const char* name : {"gap1.test", "gap2.test", "gap3.test"}) {
    Mutation m;
    d.domain.name = name;
    d.domain.state = config::DomainState::kActive;
    m.domains.push_back(d);
    apply(m);
  }
  b.StartWatching();
  ASSERT_TRUE(until([&] { return b.applied_version() == a.applied_version(); }));
  EXPECT_EQ(b.follow_stats().full_reads, 1u);
  for (const char* name : {"gap1.test", "gap2.test", "gap3.test"})
    EXPECT_TRUE(b.FindDomain(name)) << name;
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
