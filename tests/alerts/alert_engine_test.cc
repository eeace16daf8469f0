// The alert engine's state machine against a real embedded store and a recording mail queue:
// grace, one event per outage, flap damping, restart without repeats, outbox retries.
// Fails with a GoogleTest assertion.
#include "alerts/alert_engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "alerts/usage_recorder.h"
#include "control/rocksdb_control_store.h"

namespace sw::alerts {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class AlertEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sw-alerts-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(dir_);
    Status st;
    store_ = control::RocksDbControlStore::Open(dir_.string(), &st);
    ASSERT_TRUE(store_) << st.message();
    auto c = std::make_shared<config::Config>();
    c->server.hostname = "mx.test";
    c->alerts.grace = 300ms;
    c->alerts.up_wait = 2s;
    c->alerts.retry_min = 100ms;
    c->alerts.retry_max = 200ms;
    config::DomainConfig d;
    d.name = "d.test";
    d.customer = "c_1";
    c->domains["d.test"] = d;
    config_ = c;
    auto t = std::make_shared<control::TenantSnapshot>();
    control::Customer cust;
    cust.id = "c_1";
    control::Contact contact;
    contact.name = "Ops";
    contact.email = "ops@example.org";
    cust.contacts = {contact};
    t->customers["c_1"] = cust;
    tenants_ = t;
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  void StartEngine() {
    engine_ = std::make_unique<AlertEngine>(
        *store_, counters_,
        [this](queue::Envelope env, std::shared_ptr<const std::string> body, EnqueueDone done) {
          std::lock_guard lock(mu_);
          if (fail_next_ > 0) {
            --fail_next_;
            return done(Status(Status::Code::kIoError, "queue full"), "");
          }
          mails_.push_back(*body);
          EXPECT_EQ(env.recipients.at(0).address, "ops@example.org");
          done(Status::Ok(), "Q1");
        },
        "node-a");
    ASSERT_TRUE(engine_->Start(config_, tenants_).ok());
  }
  size_t Mails(const std::string& event) {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& m : mails_)
      if (m.find("X-SpamWeeder-Event: " + event + "\r\n") != std::string::npos) ++n;
    return n;
  }
  std::vector<AlertEvent> Events() {
    std::vector<AlertEvent> out;
    store_->ScanPrefix("a/", [&](const std::string&, const std::string& text) {
      AlertEvent e;
      EXPECT_TRUE(ParseEvent(text, &e)) << text;
      out.push_back(e);
      return true;
    });
    return out;
  }
  bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 5s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (cond()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return cond();
  }

  static inline int counter_ = 0;
  fs::path dir_;
  std::unique_ptr<control::RocksDbControlStore> store_;
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<const control::TenantSnapshot> tenants_;
  usage::UsageCounters counters_;
  std::unique_ptr<AlertEngine> engine_;
  std::mutex mu_;
  std::vector<std::string> mails_;
  int fail_next_ = 0;
};

TEST_F(AlertEngineTest, DownAfterGraceOnceThenUpWithDeliveredCount) {
  StartEngine();
  engine_->DomainDown("d.test", Now(), "connect refused", {2, Now()}, false);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(Mails("down"), 0u) << "alerted within the grace";
  ASSERT_TRUE(WaitFor([&] { return Mails("down") == 1; }));
  for (int i = 0; i < 5; ++i) engine_->ProbeFailed("d.test", "connect refused", {2, Now()});
  engine_->DomainDown("d.test", Now(), "again", {2, Now()}, false);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(Mails("down"), 1u);
  engine_->DomainUp("d.test", Now(), "127.0.0.1:25", {2, Now()});
  engine_->Delivered("d.test", 100, 1);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(Mails("up"), 0u) << "up before the backlog drained";
  engine_->Delivered("d.test", 100, 0);
  ASSERT_TRUE(WaitFor([&] { return Mails("up") == 1; }));
  auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  for (const auto& e : events) {
    if (e.kind != AlertKind::kUp) continue;
    EXPECT_EQ(e.delivered, 2u);
    EXPECT_GT(e.outage_ms, 0);
  }
}

TEST_F(AlertEngineTest, OutageShorterThanGraceAlertsNothing) {
  StartEngine();
  for (int i = 0; i < 3; ++i) {
    engine_->DomainDown("d.test", Now(), "refused", {1, Now()}, false);
    std::this_thread::sleep_for(100ms);
    engine_->DomainUp("d.test", Now(), "relay", {1, Now()});
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(Mails("down"), 0u);
  EXPECT_EQ(Mails("up"), 0u);
  EXPECT_TRUE(Events().empty());
}

// Down again before the `up` went out (backlog still draining): the same outage goes on.
TEST_F(AlertEngineTest, FlapDuringDrainSendsOnePair) {
  StartEngine();
  engine_->DomainDown("d.test", Now(), "refused", {3, Now()}, false);
  ASSERT_TRUE(WaitFor([&] { return Mails("down") == 1; }));
  for (int i = 0; i < 3; ++i) {
    engine_->DomainUp("d.test", Now(), "relay", {3, Now()});
    std::this_thread::sleep_for(50ms);
    engine_->DomainDown("d.test", Now(), "refused", {3, Now()}, false);
    std::this_thread::sleep_for(50ms);
  }
  engine_->DomainUp("d.test", Now(), "relay", {3, Now()});
  engine_->Delivered("d.test", 1, 0);
  ASSERT_TRUE(WaitFor([&] { return Mails("up") == 1; }));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(Mails("down"), 1u);
  EXPECT_EQ(Mails("up"), 1u);
}

TEST_F(AlertEngineTest, RestartInTheOutageRepeatsNothing) {
  StartEngine();
  int64_t since = Now();
  engine_->DomainDown("d.test", since, "refused", {1, since}, false);
  ASSERT_TRUE(WaitFor([&] { return Mails("down") == 1; }));
  engine_->Stop();
  engine_.reset();
  StartEngine();
  engine_->DomainDown("d.test", Now(), "", {1, since}, true);  // what the queue's Load reports
  engine_->Reconcile();
  std::this_thread::sleep_for(800ms);
  EXPECT_EQ(Mails("down"), 1u);
  auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].since_ms, since) << "the outage kept its start across the restart";
}

// The queue came back while we were stopped: the open outage ends with an `up`.
TEST_F(AlertEngineTest, RecoveredWhileStoppedSendsUpOnReconcile) {
  StartEngine();
  engine_->DomainDown("d.test", Now(), "refused", {1, Now()}, false);
  ASSERT_TRUE(WaitFor([&] { return Mails("down") == 1; }));
  engine_->Stop();
  engine_.reset();
  StartEngine();
  engine_->Reconcile();  // the queue reported nothing down
  ASSERT_TRUE(WaitFor([&] { return Mails("up") == 1; }));
}

TEST_F(AlertEngineTest, FailedSendIsRetriedAndRecorded) {
  fail_next_ = 2;
  StartEngine();
  engine_->DomainDown("d.test", Now(), "refused", {1, Now()}, false);
  ASSERT_TRUE(WaitFor([&] { return Mails("down") == 1; }));
  ASSERT_TRUE(WaitFor([&] {
    auto ev = Events();
    return ev.size() == 1 && ev[0].deliveries.size() == 1 && ev[0].deliveries[0].state == "sent";
  }));
  auto ev = Events();
  EXPECT_EQ(ev[0].deliveries[0].attempts, 3u);
  std::string outbox;
  EXPECT_EQ(store_->Get(OutboxKey(ev[0].id, 0), &outbox).code(), Status::Code::kNotFound)
      << "a sent item leaves the outbox";
}

TEST_F(AlertEngineTest, UsageCountersReachTheStore) {
  StartEngine();
  counters_.Add("d.test", usage::Field::kAccepted, 3);
  engine_->Delivered("d.test", 10, 0);
  engine_->Deferred("d.test");
  engine_->Stop();  // flushes
  std::string text;
  ASSERT_TRUE(store_->Get(UsageKey("d.test", usage::HourOf(Now()), "node-a"), &text).ok());
  EXPECT_NE(text.find("\"accepted\":3"), std::string::npos) << text;
  EXPECT_NE(text.find("\"delivered\":1"), std::string::npos) << text;
  EXPECT_NE(text.find("\"deferred\":1"), std::string::npos) << text;
  EXPECT_NE(text.find("\"customer\":\"c_1\""), std::string::npos) << text;
}

}  // namespace
}  // namespace sw::alerts
