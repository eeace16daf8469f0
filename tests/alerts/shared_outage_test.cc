// Owns the tests of the alert engine's cluster mode (CLUSTER.md "Shared domain health"): two
// engines named as two nodes on one store, as two gateways on one PostgreSQL: one `down` and one
// `up` per outage, a recovery on one node probes the other's queue, another node's recent
// delivery holds an outage back, a delivery on a node that never saw it down closes it.
// Fails with a GoogleTest assertion.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "alerts/alert_engine.h"
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

class SharedOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sw-shared-outage-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(dir_);
    Status st;
    store_ = control::RocksDbControlStore::Open(dir_.string(), &st);
    ASSERT_TRUE(store_) << st.message();
    auto c = std::make_shared<config::Config>();
    c->server.hostname = "mx.test";
    c->alerts.grace = 400ms;
    c->alerts.up_wait = 2s;
    c->cluster.store = "postgresql://unused";
    c->cluster.health_poll = 50ms;
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
    a_.reset();
    b_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<AlertEngine> Engine(const std::string& node) {
    auto e = std::make_unique<AlertEngine>(
        *store_, counters_,
        [this](queue::Envelope, std::shared_ptr<const std::string> body, EnqueueDone done) {
          {
            std::lock_guard lock(mu_);
            mails_.push_back(*body);
          }
          done(Status::Ok(), "Q1");
        },
        node);
    e->EnableCluster([this, node](const std::string& domain) {
      std::lock_guard lock(mu_);
      probed_.insert(node + ":" + domain);
    });
    EXPECT_TRUE(e->Start(config_, tenants_).ok());
    return e;
  }
  size_t Mails(const std::string& event) {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& m : mails_)
      if (m.find("X-SpamWeeder-Event: " + event + "\r\n") != std::string::npos) ++n;
    return n;
  }
  bool Probed(const std::string& what) {
    std::lock_guard lock(mu_);
    return probed_.count(what) > 0;
  }
  size_t Events(const std::string& kind) {
    size_t n = 0;
    store_->ScanPrefix("a/", [&](const std::string&, const std::string& text) {
      AlertEvent e;
      if (ParseEvent(text, &e) && KindName(e.kind) == kind) ++n;
      return true;
    });
    return n;
  }
  bool Open() {
    std::string text;
    return store_->Get("outage/d.test", &text).ok();
  }
  bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 5s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (cond()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return cond();
  }

  static inline int counter_ = 0;
  fs::path dir_;
  std::unique_ptr<control::RocksDbControlStore> store_;
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<const control::TenantSnapshot> tenants_;
  usage::UsageCounters counters_;
  std::unique_ptr<AlertEngine> a_, b_;
  std::mutex mu_;
  std::vector<std::string> mails_;
  std::set<std::string> probed_;
};

TEST_F(SharedOutageTest, TwoNodesDownOneDownOneUpAndTheOtherNodeProbes) {
  a_ = Engine("node-a");
  b_ = Engine("node-b");
  a_->DomainDown("d.test", Now(), "refused", {1, Now()}, false);
  b_->DomainDown("d.test", Now(), "refused", {1, Now()}, false);
  ASSERT_TRUE(WaitFor([&] { return Mails("down") == 1; }));
  std::this_thread::sleep_for(600ms);  // past both graces
  EXPECT_EQ(Events("down"), 1u);
  EXPECT_EQ(Mails("down"), 1u);
  EXPECT_TRUE(Open());

  a_->DomainUp("d.test", Now(), "[192.0.2.1]:25", {0, 0});
  ASSERT_TRUE(WaitFor([&] { return Mails("up") == 1; }));
  EXPECT_FALSE(Open());
  ASSERT_TRUE(WaitFor([&] { return Probed("node-b:d.test"); })) << "B's queue not probed";
  EXPECT_FALSE(Probed("node-a:d.test"));
  b_->DomainUp("d.test", Now(), "[192.0.2.1]:25", {0, 0});  // B's probe succeeded
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(Events("up"), 1u);
  EXPECT_EQ(Mails("up"), 1u);
}

TEST_F(SharedOutageTest, AnotherNodesRecentDeliveryHoldsTheOutageBack) {
  auto c = std::make_shared<config::Config>(*config_);
  c->alerts.grace = 1s;
  config_ = c;
  a_ = Engine("node-a");
  b_ = Engine("node-b");
  a_->Delivered("d.test", 100, 0);  // A's success is written at its next poll
  ASSERT_TRUE(WaitFor([&] {
    std::string text;
    return store_->Get("health/d.test/node-a", &text).ok();
  }));
  int64_t t0 = Now();
  b_->DomainDown("d.test", t0, "refused", {1, t0}, false);
  // A reports another delivery, dated 1 s on: at the end of B's grace it is within the last grace.
  ASSERT_TRUE(
      store_
          ->PutUnsynced({{"health/d.test/node-a", "{\"ok_ms\":" + std::to_string(t0 + 1000) + "}"}})
          .ok());
  std::this_thread::sleep_until(std::chrono::system_clock::time_point(
      std::chrono::milliseconds(t0 + 1500)));  // past B's grace, within A's delivery + grace
  EXPECT_EQ(Events("down"), 0u) << "one node fails while another delivers: no outage";
  EXPECT_FALSE(Open());
  // A's delivery ages past the grace: B's view stands alone and opens the outage.
  ASSERT_TRUE(WaitFor([&] { return Events("down") == 1; }));
  EXPECT_TRUE(Open());
}

TEST_F(SharedOutageTest, DeliveryOnANodeThatSawNoOutageClosesIt) {
  a_ = Engine("node-a");
  b_ = Engine("node-b");
  b_->DomainDown("d.test", Now(), "refused", {1, Now()}, false);
  ASSERT_TRUE(WaitFor([&] { return Mails("down") == 1; }));
  std::this_thread::sleep_for(200ms);  // A's poll learns the outage
  a_->Delivered("d.test", 100, 0);
  ASSERT_TRUE(WaitFor([&] { return Mails("up") == 1; }));
  EXPECT_FALSE(Open());
  ASSERT_TRUE(WaitFor([&] { return Probed("node-b:d.test"); }));
  EXPECT_EQ(Events("up"), 1u);
}

// A node stopped in an outage that another node closed meanwhile: after its restart its view
// of that outage ends (a probe now, no `still_down` or `up` from it).
TEST_F(SharedOutageTest, OutageClosedWhileANodeWasStoppedEndsOnItsRestart) {
  a_ = Engine("node-a");
  b_ = Engine("node-b");
  a_->DomainDown("d.test", Now(), "refused", {1, Now()}, false);
  ASSERT_TRUE(WaitFor([&] { return Mails("down") == 1; }));
  std::this_thread::sleep_for(200ms);  // B's poll learns the outage
  a_.reset();
  b_->Delivered("d.test", 100, 0);
  ASSERT_TRUE(WaitFor([&] { return Mails("up") == 1; }));
  a_ = Engine("node-a");
  a_->DomainDown("d.test", Now(), "", {1, Now()}, true);  // the queue still holds it down
  a_->Reconcile();
  ASSERT_TRUE(WaitFor([&] { return Probed("node-a:d.test"); })) << "A's queue not probed";
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(Events("down"), 1u);
  EXPECT_EQ(Events("up"), 1u);
  EXPECT_FALSE(Open());
}

}  // namespace
}  // namespace sw::alerts
