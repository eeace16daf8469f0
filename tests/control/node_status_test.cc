// Owns the unit tests of cluster heartbeats: the n/<node> record's JSON, the up/stale/stopped
// rule, and NodeHeartbeat writing through PutUnsynced off the event loop (a fake store).
// Fails with gtest assertions.
#include "control/node_status.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <mutex>
#include <vector>

#include "control/node_heartbeat.h"

namespace sw::control {
namespace {

using namespace std::chrono_literals;

TEST(NodeStatus, JsonRoundTrip) {
  NodeStatus s;
  s.node = "mx1";
  s.hostname = "mx1.example.net";
  s.version = "1.2.3";
  s.started_ms = 1000;
  s.heartbeat_ms = 5000;
  s.interval_ms = 5000;
  s.messages = 3;
  s.bytes = 4096;
  s.oldest_arrival_ms = 2000;
  s.held = 1;
  s.domains_down = 2;
  auto back = ParseNodeStatus(NodeStatusJson(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->node, "mx1");
  EXPECT_EQ(back->hostname, "mx1.example.net");
  EXPECT_EQ(back->version, "1.2.3");
  EXPECT_EQ(back->started_ms, 1000);
  EXPECT_EQ(back->heartbeat_ms, 5000);
  EXPECT_EQ(back->interval_ms, 5000);
  EXPECT_FALSE(back->stopped);
  EXPECT_EQ(back->messages, 3u);
  EXPECT_EQ(back->bytes, 4096u);
  EXPECT_EQ(back->oldest_arrival_ms, 2000);
  EXPECT_EQ(back->held, 1u);
  EXPECT_EQ(back->domains_down, 2u);
  EXPECT_FALSE(ParseNodeStatus("not json"));
  EXPECT_FALSE(ParseNodeStatus("{\"queue\": {}}"));  // no node name
  EXPECT_EQ(NodeKey("mx1"), "n/mx1");
}

TEST(NodeStatus, StaleAfterThreeOfItsOwnIntervals) {
  NodeStatus s;
  s.node = "mx1";
  s.heartbeat_ms = 10000;
  s.interval_ms = 1000;
  EXPECT_STREQ(NodeState(s, 10000), "up");
  EXPECT_STREQ(NodeState(s, 13000), "up");
  EXPECT_STREQ(NodeState(s, 13001), "stale");
  s.interval_ms = 5000;
  EXPECT_STREQ(NodeState(s, 13001), "up");
  s.stopped = true;
  EXPECT_STREQ(NodeState(s, 99999999), "stopped");
}

// Records PutUnsynced calls; fails them while `fail` is set. Nothing else is expected.
class FakeStore : public ControlStore {
 public:
  Status ScanPrefix(const std::string&,
                    const std::function<bool(const std::string&, const std::string&)>&) override {
    return Status::Ok();
  }
  Status Get(const std::string&, std::string*) override {
    return Status(Status::Code::kNotFound, "none");
  }
  Status Commit(const ChangeSet&) override {
    std::lock_guard lock(mu);
    ++commits;
    return Status::Ok();
  }
  Status CommitIfAbsent(const std::string&, const ChangeSet&, bool* applied) override {
    *applied = false;
    std::lock_guard lock(mu);
    ++commits;
    return Status::Ok();
  }
  Status PutUnsynced(const std::vector<RecordPut>& puts) override {
    std::lock_guard lock(mu);
    if (fail) return Status(Status::Code::kUnavailable, "down");
    for (const auto& p : puts) written.push_back(p);
    return Status::Ok();
  }
  Status UpdateUnsynced(const std::vector<RecordPut>&) override {
    std::lock_guard lock(mu);
    ++commits;  // not expected: counted like a commit
    return Status::Ok();
  }
  Status ReadAudit(AuditCursor, size_t, const std::function<bool(const std::string&)>&,
                   std::vector<AuditRow>*) override {
    return Status::Ok();
  }
  uint64_t LastAuditSeq() override { return 0; }
  Status ReserveAuditSeqs(size_t, uint64_t* first) override {
    *first = 1;
    return Status::Ok();
  }
  size_t count() {
    std::lock_guard lock(mu);
    return written.size();
  }

  std::mutex mu;
  std::vector<RecordPut> written;
  int commits = 0;
  bool fail = false;
};

// Runs `io` until `pred` holds or 5 s pass.
template <typename Pred>
bool RunUntil(boost::asio::io_context& io, Pred pred) {
  auto end = std::chrono::steady_clock::now() + 5s;
  while (!pred() && std::chrono::steady_clock::now() < end) {
    io.restart();
    io.run_for(10ms);
  }
  return pred();
}

TEST(NodeHeartbeat, WritesEveryIntervalThenAStoppedRecordWithoutCommits) {
  boost::asio::io_context io;
  FakeStore store;
  NodeStatus base;
  base.node = "mx1";
  int samples = 0;
  NodeHeartbeat hb(io, store, base, 20ms, [&](NodeStatus& s) {
    ++samples;
    s.messages = 7;
  });
  hb.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return store.count() >= 3; }));
  hb.Stop();
  std::lock_guard lock(store.mu);
  EXPECT_EQ(store.commits, 0) << "a heartbeat must not commit (no change version)";
  const RecordPut& last = store.written.back();
  EXPECT_EQ(last.key, "n/mx1");
  auto s = ParseNodeStatus(last.json);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->stopped);
  EXPECT_EQ(s->messages, 7u);
  EXPECT_EQ(s->interval_ms, 20);
  EXPECT_GT(s->heartbeat_ms, 0);
  auto first = ParseNodeStatus(store.written.front().json);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->stopped);
  EXPECT_GE(samples, 4);
}

TEST(NodeHeartbeat, KeepsSamplingWhileWritesFailAndStopsCleanly) {
  boost::asio::io_context io;
  FakeStore store;
  store.fail = true;
  NodeStatus base;
  base.node = "mx2";
  int samples = 0;
  NodeHeartbeat hb(io, store, base, 10ms, [&](NodeStatus&) { ++samples; });
  hb.Start();
  ASSERT_TRUE(RunUntil(io, [&] { return samples >= 5; }));
  {
    std::lock_guard lock(store.mu);
    store.fail = false;
  }
  ASSERT_TRUE(RunUntil(io, [&] { return store.count() >= 1; }));
  hb.Stop();
  EXPECT_GE(store.count(), 2u);  // the resumed heartbeat(s) and the stopped record
}

}  // namespace
}  // namespace sw::control
