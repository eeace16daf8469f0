// The ControlStore contract, run against every implementation: the embedded RocksDB store in
// control_tests, the PostgreSQL one (SPEC section 13) in control_pg_tests, built from this file
// with SW_CONTROL_PG, and a cluster node's SnapshotControlStore (connected) over the embedded
// store: atomic commits, deletes, key order, audit paging and filtering,
// durability across reopen.
// Fails with a GoogleTest assertion.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>

#ifdef SW_CONTROL_PG
#include "tests/control/postgres_test_support.h"
#else
#include "control/rocksdb_control_store.h"
#include "control/snapshot_control_store.h"
#endif

namespace sw::control {
namespace {

namespace fs = std::filesystem;

// Opens the store under test; calling it again on the same `dir` reopens the same data.
using StoreFactory = std::function<std::unique_ptr<ControlStore>(const std::string& dir)>;

struct Impl {
  const char* name;
  StoreFactory open;
};
// Names the parameter in test listings (ctest's test names): stable, unlike its bytes.
void PrintTo(const Impl& impl, std::ostream* os) { *os << impl.name; }

class ControlStoreContract : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sw-control-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(dir_);
    store_ = GetParam().open(dir_.string());
    ASSERT_TRUE(store_);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    store_ = GetParam().open(dir_.string());
    ASSERT_TRUE(store_);
  }
  std::vector<std::pair<std::string, std::string>> All() {
    std::vector<std::pair<std::string, std::string>> out;
    EXPECT_TRUE(store_
                    ->ScanPrefix("",
                                 [&](const std::string& k, const std::string& v) {
                                   out.emplace_back(k, v);
                                   return true;
                                 })
                    .ok());
    return out;
  }

  static inline int counter_ = 0;
  fs::path dir_;
  std::unique_ptr<ControlStore> store_;
};

TEST_P(ControlStoreContract, CommitPutsDeletesAndAuditTogether) {
  ChangeSet a;
  a.puts = {{"d/b.test", "{\"n\":2}"}, {"d/a.test", "{\"n\":1}"}, {"r/r_1", "{}"}};
  a.audit = {{1, "{\"seq\":1}"}, {2, "{\"seq\":2}"}};
  ASSERT_TRUE(store_->Commit(a).ok());
  auto all = All();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].first, "d/a.test") << "records come back in key order";
  EXPECT_EQ(all[1].first, "d/b.test");
  EXPECT_EQ(all[0].second, "{\"n\":1}");
  EXPECT_EQ(store_->LastAuditSeq(), 2u);

  ChangeSet b;
  b.deletes = {"d/a.test"};
  b.puts = {{"d/b.test", "{\"n\":3}"}};
  b.audit = {{3, "{\"seq\":3}"}};
  ASSERT_TRUE(store_->Commit(b).ok());
  all = All();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].first, "d/b.test");
  EXPECT_EQ(all[0].second, "{\"n\":3}");
}

TEST_P(ControlStoreContract, EverythingSurvivesReopen) {
  ChangeSet a;
  a.puts = {{"t/t_1", "{\"hash\":\"x\"}"}};
  a.audit = {{7, "{\"seq\":7}"}};
  ASSERT_TRUE(store_->Commit(a).ok());
  ASSERT_TRUE(store_->PutUnsynced({{"t/t_1", "{\"hash\":\"y\"}"}}).ok());
  Reopen();
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].second, "{\"hash\":\"y\"}");
  EXPECT_EQ(store_->LastAuditSeq(), 7u);
}

TEST_P(ControlStoreContract, AuditPagesInSeqOrderWithAFilter) {
  ChangeSet a;
  for (uint64_t i = 1; i <= 300; ++i)
    a.audit.push_back({i, std::string("{\"who\":\"") + (i % 3 == 0 ? "a" : "b") + "\"}"});
  ASSERT_TRUE(store_->Commit(a).ok());
  std::vector<AuditRow> rows;
  ASSERT_TRUE(store_
                  ->ReadAudit(
                      10, 5,
                      [](const std::string& j) { return j.find("\"a\"") != std::string::npos; },
                      &rows)
                  .ok());
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].seq, 12u);
  EXPECT_EQ(rows[4].seq, 24u);
  rows.clear();
  ASSERT_TRUE(store_
                  ->ReadAudit(
                      299, 10, [](const std::string&) { return true; }, &rows)
                  .ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].seq, 300u) << "seq 256 and above sort after 255 (fixed-width keys)";
}

TEST_P(ControlStoreContract, AuditPagesNewestFirstBeforeASeq) {
  ChangeSet a;
  for (uint64_t i = 1; i <= 300; ++i)
    a.audit.push_back({i, std::string("{\"who\":\"") + (i % 3 == 0 ? "a" : "b") + "\"}"});
  ASSERT_TRUE(store_->Commit(a).ok());
  auto only_a = [](const std::string& j) { return j.find("\"a\"") != std::string::npos; };
  std::vector<AuditRow> rows;
  ASSERT_TRUE(store_->ReadAudit(AuditCursor::Before(0), 3, only_a, &rows).ok());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].seq, 300u);
  EXPECT_EQ(rows[2].seq, 294u);
  rows.clear();
  ASSERT_TRUE(store_->ReadAudit(AuditCursor::Before(257), 2, only_a, &rows).ok());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].seq, 255u) << "strictly below the cursor, across the 255/256 key width";
  EXPECT_EQ(rows[1].seq, 252u);
  rows.clear();
  ASSERT_TRUE(store_->ReadAudit(AuditCursor::Before(4), 10, only_a, &rows).ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].seq, 3u);
  rows.clear();
  ASSERT_TRUE(store_->ReadAudit(AuditCursor::Before(1), 10, only_a, &rows).ok());
  EXPECT_TRUE(rows.empty());
}

// Audit seqs come in blocks above everything committed or reserved, also after a reopen.
TEST_P(ControlStoreContract, ReservedAuditSeqsAreConsecutiveAndNeverReused) {
  uint64_t first = 0;
  ASSERT_TRUE(store_->ReserveAuditSeqs(3, &first).ok());
  EXPECT_EQ(first, 1u) << "an empty store starts at 1";
  uint64_t next = 0;
  ASSERT_TRUE(store_->ReserveAuditSeqs(2, &next).ok());
  EXPECT_EQ(next, 4u) << "the next block follows the last one";
  ChangeSet a;
  a.audit = {{4, "{\"seq\":4}"}, {5, "{\"seq\":5}"}, {9, "{\"seq\":9}"}};
  ASSERT_TRUE(store_->Commit(a).ok());
  ASSERT_TRUE(store_->ReserveAuditSeqs(1, &next).ok());
  EXPECT_EQ(next, 10u) << "a seq the caller committed is never handed out again";
  Reopen();
  ASSERT_TRUE(store_->ReserveAuditSeqs(2, &next).ok());
  EXPECT_GT(next, 9u) << "seqs after a reopen follow the committed ones";
  uint64_t after = 0;
  ASSERT_TRUE(store_->ReserveAuditSeqs(1, &after).ok());
  EXPECT_EQ(after, next + 2);
}

TEST_P(ControlStoreContract, EmptyStoreHasNothing) {
  EXPECT_TRUE(All().empty());
  EXPECT_EQ(store_->LastAuditSeq(), 0u);
  std::vector<AuditRow> rows;
  EXPECT_TRUE(store_
                  ->ReadAudit(
                      0, 10, [](const std::string&) { return true; }, &rows)
                  .ok());
  EXPECT_TRUE(rows.empty());
}

TEST_P(ControlStoreContract, ScanPrefixAndGet) {
  ChangeSet a;
  a.puts = {{"u/b.test/2026113009", "2"},
            {"u/a.test/2026113009", "1"},
            {"u/a.test/2026113010", "3"},
            {"u/a.test0/2026113010", "4"},
            {"v/x", "5"}};
  ASSERT_TRUE(store_->Commit(a).ok());
  std::vector<std::string> keys;
  auto collect = [&](const std::string& k, const std::string&) {
    keys.push_back(k);
    return true;
  };
  ASSERT_TRUE(store_->ScanPrefix("u/a.test/", collect).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"u/a.test/2026113009", "u/a.test/2026113010"}))
      << "only the prefix, in key order ('u/a.test0/' is not under 'u/a.test/')";
  keys.clear();
  ASSERT_TRUE(store_
                  ->ScanPrefix("u/",
                               [&](const std::string& k, const std::string&) {
                                 keys.push_back(k);
                                 return keys.size() < 2;
                               })
                  .ok());
  EXPECT_EQ(keys.size(), 2u) << "stops when the callback says so";
  keys.clear();
  ASSERT_TRUE(store_->ScanPrefix("w/", collect).ok());
  EXPECT_TRUE(keys.empty());

  std::string v;
  ASSERT_TRUE(store_->Get("u/a.test/2026113010", &v).ok());
  EXPECT_EQ(v, "3");
  EXPECT_EQ(store_->Get("u/none", &v).code(), Status::Code::kNotFound);
}

TEST_P(ControlStoreContract, CommitIfAbsentWritesOnce) {
  ChangeSet first;
  first.puts = {{"a/ev1", "{\"n\":1}"}, {"o/ev1/0", "{}"}};
  bool applied = false;
  ASSERT_TRUE(store_->CommitIfAbsent("a/ev1", first, &applied).ok());
  EXPECT_TRUE(applied);
  ChangeSet second;
  second.puts = {{"a/ev1", "{\"n\":2}"}, {"o/ev1/1", "{}"}};
  ASSERT_TRUE(store_->CommitIfAbsent("a/ev1", second, &applied).ok());
  EXPECT_FALSE(applied);
  Reopen();
  ASSERT_TRUE(store_->CommitIfAbsent("a/ev1", second, &applied).ok());
  EXPECT_FALSE(applied) << "the guard holds across a reopen";
  std::string v;
  ASSERT_TRUE(store_->Get("a/ev1", &v).ok());
  EXPECT_EQ(v, "{\"n\":1}");
  EXPECT_EQ(store_->Get("o/ev1/1", &v).code(), Status::Code::kNotFound) << "nothing of it written";
}

// Many threads race to create the same event: exactly one wins.
TEST_P(ControlStoreContract, CommitIfAbsentHasOneWinner) {
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      ChangeSet c;
      c.puts = {{"a/race", std::to_string(t)}};
      bool applied = false;
      if (store_->CommitIfAbsent("a/race", c, &applied).ok() && applied) ++wins;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wins.load(), 1);
}

// The shared-outage pattern of cluster mode (alerts/shared_outage.cc): a record opened under its
// own key as guard, closed under a per-outage guard whose change set deletes it; a stale close
// changes nothing and a new outage opens after the close.
TEST_P(ControlStoreContract, CommitIfAbsentOpensAndClosesOnce) {
  ChangeSet open1;
  open1.puts = {{"outage/x.test", "{\"since_ms\":1}"}, {"a/x.test/1/down", "{}"}};
  bool applied = false;
  ASSERT_TRUE(store_->CommitIfAbsent("outage/x.test", open1, &applied).ok());
  EXPECT_TRUE(applied);
  ChangeSet open2;
  open2.puts = {{"outage/x.test", "{\"since_ms\":2}"}, {"a/x.test/2/down", "{}"}};
  ASSERT_TRUE(store_->CommitIfAbsent("outage/x.test", open2, &applied).ok());
  EXPECT_FALSE(applied) << "one outage open at a time";
  ChangeSet close1;
  close1.puts = {{"outage_end/x.test/1", "{}"}};
  close1.deletes = {"outage/x.test"};
  ASSERT_TRUE(store_->CommitIfAbsent("outage_end/x.test/1", close1, &applied).ok());
  EXPECT_TRUE(applied);
  std::string v;
  EXPECT_EQ(store_->Get("outage/x.test", &v).code(), Status::Code::kNotFound);
  ASSERT_TRUE(store_->CommitIfAbsent("outage/x.test", open2, &applied).ok());
  EXPECT_TRUE(applied) << "a new outage opens once the last one closed";
  ASSERT_TRUE(store_->CommitIfAbsent("outage_end/x.test/1", close1, &applied).ok());
  EXPECT_FALSE(applied) << "a stale close of the first outage";
  ASSERT_TRUE(store_->Get("outage/x.test", &v).ok()) << "the stale close deleted nothing";
  EXPECT_EQ(v, "{\"since_ms\":2}");
}

// Keys compare as bytes: upper case before lower case, ASCII before UTF-8 sequences; a prefix
// ending in a non-ASCII byte still scans only its own keys.
TEST_P(ControlStoreContract, KeysSortAsBytes) {
  ChangeSet a;
  a.puts = {{"d/\xC3\xA9t\xC3\xA9.test", "1"},
            {"d/a.test", "2"},
            {"d/Z.test", "3"},
            {"d/~.test", "4"},
            {"d/\xC3\xA9", "5"},
            {"d/\xC3\xA9z", "6"},
            {"d/\xC3\xAA", "7"},
            {"d/a", "8"}};
  ASSERT_TRUE(store_->Commit(a).ok());
  std::vector<std::string> keys;
  for (const auto& [k, v] : All()) keys.push_back(k);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"d/Z.test", "d/a", "d/a.test", "d/~.test", "d/\xC3\xA9",
                                      "d/\xC3\xA9t\xC3\xA9.test", "d/\xC3\xA9z", "d/\xC3\xAA"}));
  keys.clear();
  ASSERT_TRUE(store_
                  ->ScanPrefix("d/\xC3\xA9",
                               [&](const std::string& k, const std::string&) {
                                 keys.push_back(k);
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(keys,
            (std::vector<std::string>{"d/\xC3\xA9", "d/\xC3\xA9t\xC3\xA9.test", "d/\xC3\xA9z"}));
}

// A token's last use is written over its record only while it exists: a revoke committed
// before the write stays a revoke.
TEST_P(ControlStoreContract, UpdateUnsyncedNeverBringsBackADeletedRecord) {
  ChangeSet cs;
  cs.puts = {{"t/t_1", "{\"used\":0}"}, {"t/t_2", "{\"used\":0}"}};
  ASSERT_TRUE(store_->Commit(cs).ok());
  ChangeSet revoke;
  revoke.deletes = {"t/t_1"};
  ASSERT_TRUE(store_->Commit(revoke).ok());
  ASSERT_TRUE(store_->UpdateUnsynced({{"t/t_1", "{\"used\":1}"}, {"t/t_2", "{\"used\":1}"}}).ok());
  std::string json;
  EXPECT_EQ(store_->Get("t/t_1", &json).code(), Status::Code::kNotFound);
  ASSERT_TRUE(store_->Get("t/t_2", &json).ok());
  EXPECT_EQ(json, "{\"used\":1}");
}

// A store either brings the changed records (a cluster store's change log) or says it cannot
// (the embedded store keeps no log): never a partial answer a reader would trust.
TEST_P(ControlStoreContract, ChangesSinceAreCompleteOrRefused) {
  ChangeSet cs;
  cs.puts = {{"d/log.test", "{\"n\":1}"}};
  ASSERT_TRUE(store_->Commit(cs).ok());
  uint64_t version = 0;
  bool complete = true;
  std::vector<RecordChange> out;
  ASSERT_TRUE(store_->ReadChangesSince(0, &version, &out, &complete).ok());
#ifdef SW_CONTROL_PG
  ASSERT_TRUE(complete);
  EXPECT_EQ(version, 1u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "d/log.test");
  EXPECT_EQ(out[0].json, "{\"n\":1}");
#else
  EXPECT_FALSE(complete);
  EXPECT_TRUE(out.empty());
#endif
}

#ifdef SW_CONTROL_PG
INSTANTIATE_TEST_SUITE_P(
    Stores, ControlStoreContract,
    ::testing::Values(Impl{"PostgreSQL",
                           [](const std::string& dir) { return pgtest::OpenForDir(dir); }}),
    [](const ::testing::TestParamInfo<Impl>& i) { return std::string(i.param.name); });
#else
INSTANTIATE_TEST_SUITE_P(
    Stores, ControlStoreContract,
    ::testing::Values(Impl{"RocksDb",
                           [](const std::string& dir) -> std::unique_ptr<ControlStore> {
                             Status st;
                             return RocksDbControlStore::Open(dir, &st);
                           }},
                      // A cluster node's store: the primary behind its local snapshot.
                      Impl{"SnapshotOverRocksDb",
                           [](const std::string& dir) -> std::unique_ptr<ControlStore> {
                             Status st;
                             fs::create_directories(dir);
                             return SnapshotControlStore::Open(
                                 dir + "/snapshot",
                                 [dir](Status* e) -> std::unique_ptr<ControlStore> {
                                   return RocksDbControlStore::Open(dir + "/primary", e);
                                 },
                                 std::chrono::milliseconds(50), &st);
                           }}),
    [](const ::testing::TestParamInfo<Impl>& i) { return std::string(i.param.name); });
#endif

}  // namespace
}  // namespace sw::control
