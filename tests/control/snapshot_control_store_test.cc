// Owns the tests of a cluster node's local snapshot of the control plane (SnapshotControlStore)
// over an embedded primary that can be made unreachable. Fails with a GoogleTest assertion.
#include "control/snapshot_control_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "control/rocksdb_control_store.h"

namespace sw::control {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class SnapshotControlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sw-snapshot-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The node's store; the primary answers while `reachable_` is true.
  std::unique_ptr<SnapshotControlStore> Open(Status* st) {
    return SnapshotControlStore::Open(
        (dir_ / "snapshot").string(),
        [this](Status* e) -> std::unique_ptr<ControlStore> {
          if (!reachable_) {
            *e = Status(Status::Code::kUnavailable, "connection refused");
            return nullptr;
          }
          return RocksDbControlStore::Open((dir_ / "primary").string(), e);
        },
        20ms, st);
  }
  // What a node's full read does: the version, then the four record prefixes.
  std::map<std::string, std::string> FullRead(ControlStore& s) {
    uint64_t v = 0;
    EXPECT_TRUE(s.ChangeVersion(&v).ok());
    std::map<std::string, std::string> out;
    for (const char* p : {"r/", "c/", "t/", "d/"}) {
      Status st = s.ScanPrefix(p, [&](const std::string& k, const std::string& j) {
        out[k] = j;
        return true;
      });
      EXPECT_TRUE(st.ok()) << p << ": " << st.message();
    }
    return out;
  }

  fs::path dir_;
  std::atomic<bool> reachable_{true};
};

TEST_F(SnapshotControlStoreTest, FirstStartNeedsTheDatabase) {
  reachable_ = false;
  Status st;
  EXPECT_EQ(Open(&st), nullptr);
  EXPECT_NE(st.message().find("no local snapshot"), std::string::npos) << st.message();
}

TEST_F(SnapshotControlStoreTest, ServesTheLastFullReadWhileTheDatabaseIsDown) {
  Status st;
  {
    auto s = Open(&st);
    ASSERT_TRUE(s && s->connected()) << st.message();
    ChangeSet cs;
    cs.puts = {
        {"d/a.test", "{\"a\":1}"}, {"d/b.test", "{\"b\":1}"}, {"r/r_1", "{}"}, {"a/alert", "{}"}};
    ASSERT_TRUE(s->Commit(cs).ok());
    FullRead(*s);
    ChangeSet del;  // deleted in the database by another node, then read in full again
    del.deletes = {"d/b.test"};
    s.reset();
    auto primary = RocksDbControlStore::Open((dir_ / "primary").string(), &st);
    ASSERT_TRUE(primary && primary->Commit(del).ok());
  }
  {
    auto s = Open(&st);
    ASSERT_TRUE(s && s->connected());
    auto seen = FullRead(*s);
    EXPECT_EQ(seen.count("d/b.test"), 0u);
  }
  reachable_ = false;
  auto s = Open(&st);
  ASSERT_TRUE(s) << st.message();
  EXPECT_FALSE(s->connected());
  auto seen = FullRead(*s);
  EXPECT_EQ(seen, (std::map<std::string, std::string>{{"d/a.test", "{\"a\":1}"}, {"r/r_1", "{}"}}))
      << "the snapshot holds the last full read, and only the records";
  std::string json;
  EXPECT_EQ(s->Get("a/alert", &json).code(), Status::Code::kUnavailable);
  EXPECT_EQ(s->ScanPrefix("a/", [](auto&, auto&) { return true; }).code(),
            Status::Code::kUnavailable);
  ChangeSet cs;
  cs.puts = {{"d/c.test", "{}"}};
  EXPECT_EQ(s->Commit(cs).code(), Status::Code::kUnavailable) << "writes need the database";
  uint64_t seq = 0;
  EXPECT_EQ(s->ReserveAuditSeqs(1, &seq).code(), Status::Code::kUnavailable);
}

TEST_F(SnapshotControlStoreTest, ReconnectsAndThenFollowsThePrimary) {
  Status st;
  {
    auto s = Open(&st);
    ASSERT_TRUE(s);
    FullRead(*s);  // an empty control plane still leaves a snapshot to start from
  }
  reachable_ = false;
  auto s = Open(&st);
  ASSERT_TRUE(s) << st.message();
  ASSERT_FALSE(s->connected());
  std::mutex mu;
  std::condition_variable cv;
  bool down_reported = false, connected_cb = false;
  s->OnConnected([&] {
    std::lock_guard lock(mu);
    connected_cb = true;
    cv.notify_all();
  });
  EXPECT_TRUE(s->WatchChanges([&](const ControlStore::WatchEvent& e) {
    std::lock_guard lock(mu);
    if (!e.up) down_reported = true;
    cv.notify_all();
  }));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return down_reported; }));
  }
  reachable_ = true;
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return connected_cb; }));
  }
  EXPECT_TRUE(s->connected());
  ChangeSet cs;
  cs.puts = {{"d/new.test", "{}"}};
  EXPECT_TRUE(s->Commit(cs).ok());
  s->StopWatching();
  s.reset();
  reachable_ = false;  // the node's own write was copied into the snapshot
  s = Open(&st);
  ASSERT_TRUE(s);
  std::string json;
  EXPECT_TRUE(s->Get("d/new.test", &json).ok());
}

}  // namespace
}  // namespace sw::control
