// Owns the issue 14 tests of the next-attempt index and the counter repair, through the daemon.
// Fails with the daemon's logs and the sinks' observations; no test depends on a sleep.
#include <rocksdb/db.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "admin/http_client.h"
#include "queue/queue_counters.h"
#include "tests/integration/harness/gateway_process.h"
#include "tests/queue/raw_queue_db.h"

namespace sw::it {
namespace {

using sw::queue::test_support::RawQueueDb;

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr int kDeferred = 30;
constexpr auto kRetry = std::chrono::seconds(6);  // queue.retry_interval below
// Sink and daemon clocks differ by the reply's way back: a retry is never this much early.
constexpr auto kSlack = std::chrono::milliseconds(700);

class RetryIndexTest : public GatewayTest {
 protected:
  admin::HttpResult Api(const std::string& method, const std::string& target) {
    admin::HttpClient http("127.0.0.1", gw_->admin_port(), GatewayProcess::kAdminToken, 30s);
    return http.Call(method, target);
  }
  // A gauge without labels from /metrics, -1 when missing.
  double Gauge(const std::string& name) {
    admin::HttpResult r = Api("GET", "/metrics");
    std::string key = "\n" + name + " ";
    size_t at = r.body.find(key);
    return at == std::string::npos ? -1 : std::atof(r.body.c_str() + at + key.size());
  }
  // Polls until `name` reads `want` or the deadline passes; returns the last value.
  double AwaitGauge(const std::string& name, double want, Millis timeout) {
    double v = -1;
    for (auto end = Clock::now() + timeout; Clock::now() < end;) {
      if ((v = Gauge(name)) == want) break;
      std::this_thread::sleep_for(50ms);
    }
    return v;
  }
  int64_t SummaryMessages(const std::string& domain) {
    boost::system::error_code ec;
    json::value v = json::parse(Api("GET", "/api/v1/queue/summary").body, ec);
    if (ec || !v.is_object()) return -1;
    for (const auto& d : v.as_object().at("domains").as_array())
      if (d.as_object().at("domain").as_string() == domain)
        return d.as_object().at("messages").as_int64();
    return 0;
  }
  // The times the sink saw RCPT for each "defer-" recipient (the sink tempfails them).
  void TempfailDeferRecipients() {
    sink_.set_rcpt_policy([this](const std::string& a) -> std::string {
      if (a.rfind("defer-", 0) != 0) return "";
      std::lock_guard lk(mu_);
      tries_[a].push_back(Clock::now());
      return "451 4.2.1 mailbox busy, try later";
    });
  }
  // Waits until every deferred recipient was tried `n` times; returns their tries.
  std::map<std::string, std::vector<Clock::time_point>> AwaitTries(size_t n, Millis timeout) {
    for (auto end = Clock::now() + timeout;; std::this_thread::sleep_for(50ms)) {
      std::lock_guard lk(mu_);
      size_t done = 0;
      for (const auto& [a, t] : tries_) done += t.size() >= n ? 1 : 0;
      if (done == kDeferred || Clock::now() >= end) return tries_;
    }
  }
  static size_t TriedAtLeast(const std::map<std::string, std::vector<Clock::time_point>>& t,
                             size_t n) {
    size_t k = 0;
    for (const auto& [a, times] : t) k += times.size() >= n ? 1 : 0;
    return k;
  }
  std::mutex mu_;
  std::map<std::string, std::vector<Clock::time_point>> tries_;
};

// Thirty messages answered 451 while example.com stays up: they leave memory (the active set
// would otherwise be full with them and starve other.test), other.test's mail drains while
// they wait, each is tried again at its due time, and after a kill -9 and a start they are
// re-admitted from the index once due, not at startup.
TEST_F(RetryIndexTest, DeferredMailWaitsOnDiskAndComesBackWhenDueAcrossARestart) {
  TestSmtpServer other;
  ASSERT_TRUE(other.Start(0));
  TempfailDeferRecipients();
  GatewayOptions o = DefaultOptions();
  o.domains.push_back(
      {"other.test", {"[127.0.0.1]:" + std::to_string(other.port())}, {}, "opportunistic"});
  o.retry_interval = "6s";
  o.queue_yaml = "  active_limit: 20\n  active_window_per_domain: 10\n";
  ASSERT_TRUE(StartGateway(o));
  for (int i = 0; i < kDeferred; ++i) {
    Envelope env;
    env.from = "alice@example.net";
    env.to = {"defer-" + std::to_string(i) + "@example.com"};
    SendOk(env,
           "From: alice@example.net\r\nSubject: d\r\n\r\ndeferred " + std::to_string(i) + "\r\n");
    if (HasFailure()) return;
  }
  auto first = AwaitTries(1, 20s);
  ASSERT_EQ(TriedAtLeast(first, 1), static_cast<size_t>(kDeferred)) << gw_->log().Text();
  // Not in memory while they wait (today's queue keeps 20 of them, the whole active set).
  EXPECT_EQ(AwaitGauge("spamweeder_queue_active_messages", 0, 10s), 0);
  for (int i = 0; i < 10; ++i) {
    Envelope env;
    env.from = "alice@example.net";
    env.to = {"bob@other.test"};
    SendOk(env, "From: alice@example.net\r\nSubject: o\r\n\r\nother " + std::to_string(i) + "\r\n");
  }
  EXPECT_TRUE(other.WaitForCount(10, 20s)) << "other.test got " << other.count();
  // Each comes back at its due time: from the index (logged), never early.
  auto second = AwaitTries(2, 30s);
  ASSERT_EQ(TriedAtLeast(second, 2), static_cast<size_t>(kDeferred));
  EXPECT_TRUE(gw_->log().WaitFor("event=retries_due messages=[0-9]+ ", 1s));
  for (const auto& [a, t] : second)
    EXPECT_GE(t[1] - t[0], kRetry - kSlack) << a << " retried early";
  gw_->Kill9();
  auto restarted = Clock::now();
  ASSERT_TRUE(gw_->Start());
  auto third = AwaitTries(3, 30s);
  ASSERT_EQ(TriedAtLeast(third, 3), static_cast<size_t>(kDeferred)) << gw_->log().Text();
  EXPECT_TRUE(gw_->log().WaitFor("event=retries_due messages=[0-9]+ ", 1s));
  for (const auto& [a, t] : third) {
    EXPECT_GE(t[2] - t[1], kRetry - kSlack) << a << " retried early after the restart";
    EXPECT_GT(t[2], restarted);
  }
  EXPECT_EQ(AwaitGauge("spamweeder_queue_active_messages", 0, 10s), 0);
  EXPECT_EQ(SummaryMessages("example.com"), kDeferred) << "still queued, none lost";
  other.Stop();
}

// A counter that drifted (five messages too many for example.com, written into the store
// while the daemon was stopped) is recounted in the background after a constant-time start.
TEST_F(RetryIndexTest, DriftedCounterIsRepairedAfterStart) {
  ClosedPort dead;
  GatewayOptions o = DefaultOptions();
  o.domains = {
      {"example.com", {"[127.0.0.1]:" + std::to_string(dead.port())}, {}, "opportunistic"}};
  o.probe_interval = "1h";  // stays down: the mail stays queued
  ASSERT_TRUE(StartGateway(o));
  for (int i = 0; i < 3; ++i) {
    Envelope env;
    env.from = "alice@example.net";
    env.to = {"bob@example.com"};
    SendOk(env, "From: alice@example.net\r\nSubject: c\r\n\r\ncount " + std::to_string(i) + "\r\n");
  }
  ASSERT_TRUE(gw_->log().WaitFor("event=domain_down domain=example.com", 10s));
  ASSERT_TRUE(gw_->Sigterm(20s));
  {
    RawQueueDb raw;
    ASSERT_TRUE(raw.Open(gw_->queue_path()));
    rocksdb::DB* db = raw.db;
    const auto& h = raw.handles;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), h[4]));
    int changed = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string domain;
      int64_t bucket = 0;
      queue::CountCell c;
      if (!queue::ParseCountKey(it->key().ToString(), &domain, &bucket) ||
          domain != "example.com" || !queue::DecodeCell(it->value().ToString(), &c) || changed)
        continue;
      c.messages += 5;
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), h[4], it->key(), queue::EncodeCell(c)).ok());
      ++changed;
    }
    it.reset();
    ASSERT_EQ(changed, 1);
  }
  ASSERT_TRUE(gw_->Start());
  EXPECT_TRUE(gw_->log().WaitFor("event=queue_loaded messages=3 .*envelopes_read=0", 5s));
  EXPECT_TRUE(
      gw_->log().WaitFor("event=counters_repaired domain=example\\.com before=8 after=3", 10s))
      << gw_->log().Text();
  EXPECT_EQ(SummaryMessages("example.com"), 3);
}

}  // namespace
}  // namespace sw::it
