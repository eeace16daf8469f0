// The ControlStore contract, run against every implementation (today the embedded RocksDB
// store; the PostgreSQL one of SPEC section 13 joins the factory list): atomic commits,
// deletes, key order, audit paging and filtering, durability across reopen.
// Fails with a GoogleTest assertion.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "control/rocksdb_control_store.h"

namespace sw::control {
namespace {

namespace fs = std::filesystem;

// Opens the store under test; calling it again on the same `dir` reopens the same data.
using StoreFactory = std::function<std::unique_ptr<ControlStore>(const std::string& dir)>;

struct Impl {
  const char* name;
  StoreFactory open;
};

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
                    ->ScanRecords(
                        [&](const std::string& k, const std::string& v) { out.emplace_back(k, v); })
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

INSTANTIATE_TEST_SUITE_P(
    Stores, ControlStoreContract,
    ::testing::Values(Impl{"RocksDb",
                           [](const std::string& dir) -> std::unique_ptr<ControlStore> {
                             Status st;
                             return RocksDbControlStore::Open(dir, &st);
                           }}),
    [](const ::testing::TestParamInfo<Impl>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace sw::control
