// Tests what only the PostgreSQL ControlStore has: versioned migrations (idempotent, safe when
// nodes start together), CommitIfAbsent across connections, paging, audit seqs never
// overwritten, and a server that stops and returns. Fails with a GoogleTest assertion.
#include "control/postgres_control_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "control/postgres_schema.h"
#include "tests/control/postgres_test_support.h"

namespace sw::control {
namespace {

std::vector<int> AllVersions() {
  std::vector<int> v;
  for (const auto& m : PgMigrations()) v.push_back(m.version);
  return v;
}

class PostgresControlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    url_ = pgtest::FreshDatabase("swpg_" + std::to_string(::getpid()) + "_" + info->name(), &why);
    ASSERT_FALSE(url_.empty()) << why;
  }
  std::unique_ptr<PostgresControlStore> Open() {
    Status st;
    auto s = PostgresControlStore::Open(url_, &st);
    EXPECT_TRUE(s) << st.message();
    return s;
  }
  std::string url_;
};

TEST_F(PostgresControlStoreTest, MigrationsApplyOnceAndAreRecorded) {
  std::vector<int> applied;
  ASSERT_TRUE(MigratePostgres(url_, &applied).ok());
  EXPECT_EQ(applied, AllVersions());
  applied.clear();
  ASSERT_TRUE(MigratePostgres(url_, &applied).ok());
  EXPECT_TRUE(applied.empty()) << "a current schema applies nothing";
  ASSERT_TRUE(Open());
  ASSERT_TRUE(Open()) << "Open on a current schema";
  pqxx::connection c(url_);
  pqxx::nontransaction n(c);
  std::vector<int> recorded;
  for (const auto& row : n.exec("SELECT version FROM schema_migrations ORDER BY version"))
    recorded.push_back(row[0].as<int>());
  EXPECT_EQ(recorded, AllVersions());
  EXPECT_EQ(n.exec("SELECT 1 FROM schema_migrations WHERE applied_at IS NULL").size(), 0u);
}

// Nodes starting together: every migration applied exactly once, nobody fails.
TEST_F(PostgresControlStoreTest, ConcurrentMigrationsDoNotRace) {
  std::vector<std::vector<int>> applied(4);
  std::vector<Status> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < 4; ++i)
    threads.emplace_back([&, i] { results[i] = MigratePostgres(url_, &applied[i]); });
  for (auto& t : threads) t.join();
  std::vector<int> all;
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(results[i].ok()) << results[i].message();
    all.insert(all.end(), applied[i].begin(), applied[i].end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, AllVersions());
}

// Two stores on one database, as two nodes: their audit seq blocks never overlap, also when
// they reserve at the same time, and a reopened store goes on after both.
TEST_F(PostgresControlStoreTest, TwoInstancesReserveDisjointAuditSeqs) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  std::vector<std::vector<uint64_t>> got(4);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      ControlStore* s = t % 2 ? a.get() : b.get();
      for (int i = 0; i < 25; ++i) {
        uint64_t first = 0;
        size_t n = 1 + static_cast<size_t>(i % 3);
        if (!s->ReserveAuditSeqs(n, &first).ok()) ++errors;
        for (size_t k = 0; k < n; ++k) got[t].push_back(first + k);
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  std::vector<uint64_t> all;
  for (const auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a seq given out twice";
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front(), 1u);
  EXPECT_EQ(all.back(), all.size()) << "blocks are consecutive: no gaps without failures";
  a.reset();
  auto c = Open();
  ASSERT_TRUE(c);
  uint64_t first = 0;
  ASSERT_TRUE(c->ReserveAuditSeqs(1, &first).ok());
  EXPECT_EQ(first, all.back() + 1) << "reserved seqs are remembered by the database";
}

// Migration 2 on a database with audit rows: the sequence starts above them.
TEST_F(PostgresControlStoreTest, AuditSeqSequenceStartsAboveExistingRows) {
  {
    pqxx::connection conn(url_);
    pqxx::nontransaction n(conn);
    n.exec(
        "CREATE TABLE schema_migrations (version int PRIMARY KEY,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    n.exec(PgMigrations()[0].sql);
    n.exec("INSERT INTO schema_migrations (version) VALUES (1)");
    n.exec("INSERT INTO audit (seq, json) VALUES (41, '{}'), (42, '{}')");
  }
  std::vector<int> applied;
  ASSERT_TRUE(MigratePostgres(url_, &applied).ok());
  EXPECT_EQ(applied, std::vector<int>({2, 3, 4}));
  auto s = Open();
  ASSERT_TRUE(s);
  uint64_t first = 0;
  ASSERT_TRUE(s->ReserveAuditSeqs(2, &first).ok());
  EXPECT_EQ(first, 43u);
}

// Two stores are two connections, as two nodes would be: one winner per guard.
TEST_F(PostgresControlStoreTest, CommitIfAbsentAcrossConnectionsHasOneWinner) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  for (int round = 0; round < 20; ++round) {
    std::string guard = "a/ev" + std::to_string(round);
    std::atomic<int> wins{0}, errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t)
      threads.emplace_back([&, t] {
        ControlStore* s = t % 2 ? a.get() : b.get();
        ChangeSet c;
        c.puts = {{guard, std::to_string(t)}, {"o/" + guard + "/" + std::to_string(t), "{}"}};
        bool applied = false;
        Status st = s->CommitIfAbsent(guard, c, &applied);
        if (!st.ok()) ++errors;
        if (st.ok() && applied) ++wins;
      });
    for (auto& th : threads) th.join();
    EXPECT_EQ(errors.load(), 0) << guard;
    EXPECT_EQ(wins.load(), 1) << guard;
    int outbox = 0;
    ASSERT_TRUE(a->ScanPrefix("o/" + guard + "/", [&](const std::string&, const std::string&) {
                   ++outbox;
                   return true;
                 }).ok());
    EXPECT_EQ(outbox, 1) << "only the winner's other rows are written";
  }
}

TEST_F(PostgresControlStoreTest, ScanAndAuditPageThroughSmallPages) {
  auto s = Open();
  ASSERT_TRUE(s);
  s->set_page_rows(7);
  ChangeSet c;
  for (int i = 0; i < 100; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "u/x/%03d", i);
    c.puts.push_back({key, std::to_string(i)});
    c.audit.push_back({static_cast<uint64_t>(i + 1), "{\"n\":" + std::to_string(i + 1) + "}"});
  }
  c.puts.push_back({"u/y/000", "y"});
  c.puts.push_back({"t/000", "t"});
  ASSERT_TRUE(s->Commit(c).ok());
  std::vector<std::string> keys;
  ASSERT_TRUE(s->ScanPrefix("u/x/", [&](const std::string& k, const std::string&) {
                 keys.push_back(k);
                 return true;
               }).ok());
  ASSERT_EQ(keys.size(), 100u);
  EXPECT_EQ(keys.front(), "u/x/000");
  EXPECT_EQ(keys.back(), "u/x/099");
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  keys.clear();
  ASSERT_TRUE(s->ScanPrefix("", [&](const std::string& k, const std::string&) {
                 keys.push_back(k);
                 return keys.size() < 30;
               }).ok());
  EXPECT_EQ(keys.size(), 30u) << "stops when told, across pages";
  std::vector<AuditRow> rows;
  ASSERT_TRUE(
      s->ReadAudit(
           3, 15, [](const std::string& j) { return j.find('5') != std::string::npos; }, &rows)
          .ok());
  ASSERT_EQ(rows.size(), 15u) << "5, 15, 25, 35, 45, 50..59";
  EXPECT_EQ(rows[0].seq, 5u);
  EXPECT_EQ(rows[14].seq, 59u);
  EXPECT_EQ(s->LastAuditSeq(), 100u);
}

// Another node's audit row is never overwritten: the commit fails whole.
TEST_F(PostgresControlStoreTest, TakenAuditSeqFailsTheCommit) {
  auto s = Open();
  ASSERT_TRUE(s);
  ChangeSet a;
  a.audit = {{5, "{\"seq\":5,\"node\":\"a\"}"}};
  ASSERT_TRUE(s->Commit(a).ok());
  ChangeSet b;
  b.puts = {{"d/b.test", "{}"}};
  b.audit = {{5, "{\"seq\":5,\"node\":\"b\"}"}};
  Status st = s->Commit(b);
  EXPECT_EQ(st.code(), Status::Code::kInvalid) << st.message();
  std::string v;
  EXPECT_EQ(s->Get("d/b.test", &v).code(), Status::Code::kNotFound);
  std::vector<AuditRow> rows;
  ASSERT_TRUE(s->ReadAudit(
                   0, 10, [](const std::string&) { return true; }, &rows)
                  .ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows[0].json.find("\"a\""), std::string::npos);
  ChangeSet next;
  next.puts = {{"d/c.test", "{}"}};
  next.audit = {{6, "{\"seq\":6}"}};
  EXPECT_TRUE(s->Commit(next).ok()) << "the connection is usable after the failed commit";
}

// The change log (migration 4): the keys each version wrote, read back with their values now,
// once each; alert records bring no version; a pruned log says it is incomplete.
TEST_F(PostgresControlStoreTest, ChangeLogReadsWhatChangedSinceAVersion) {
  auto s = Open();
  ASSERT_TRUE(s);
  ChangeSet one;
  one.puts = {{"d/a.test", "{\"v\":1}"}, {"d/b.test", "{\"v\":1}"}, {"a/alert", "{}"}};
  ASSERT_TRUE(s->Commit(one).ok());
  ChangeSet two;
  two.deletes = {"d/a.test"};
  two.puts = {{"t/t_1", "{}"}, {"d/b.test", "{\"v\":2}"}};
  ASSERT_TRUE(s->Commit(two).ok());
  ChangeSet alert_only;
  alert_only.puts = {{"s/x", "{}"}};
  ASSERT_TRUE(s->Commit(alert_only).ok());

  uint64_t version = 0;
  bool complete = false;
  std::vector<RecordChange> out;
  ASSERT_TRUE(s->ReadChangesSince(0, &version, &out, &complete).ok());
  EXPECT_TRUE(complete);
  EXPECT_EQ(version, 2u);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].key, "d/a.test");
  EXPECT_TRUE(out[0].deleted);
  EXPECT_EQ(out[1].key, "d/b.test");
  EXPECT_EQ(out[1].json, "{\"v\":2}") << "the value now, once, not each version's";
  EXPECT_EQ(out[2].key, "t/t_1");
  EXPECT_FALSE(out[2].deleted);

  ASSERT_TRUE(s->ReadChangesSince(1, &version, &out, &complete).ok());
  EXPECT_TRUE(complete);
  EXPECT_EQ(out.size(), 3u) << "version 2 wrote all three";
  ASSERT_TRUE(s->ReadChangesSince(2, &version, &out, &complete).ok());
  EXPECT_TRUE(complete);
  EXPECT_TRUE(out.empty());

  s->set_change_log_keep(1);
  ChangeSet three;
  three.puts = {{"c/c_1", "{}"}};
  ASSERT_TRUE(s->Commit(three).ok());  // version 3 prunes versions <= 2
  ASSERT_TRUE(s->ReadChangesSince(1, &version, &out, &complete).ok());
  EXPECT_FALSE(complete) << "the log no longer reaches back to version 1";
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(s->ReadChangesSince(2, &version, &out, &complete).ok());
  EXPECT_TRUE(complete);
  EXPECT_EQ(version, 3u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "c/c_1");
}

TEST(PostgresControlStoreOpen, UnreachableServerIsUnavailable) {
  Status st;
  auto s = PostgresControlStore::Open("postgresql://postgres@127.0.0.1:1/none", &st);
  EXPECT_FALSE(s);
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.message();
  std::vector<int> applied;
  st = MigratePostgres("postgresql://postgres@127.0.0.1:1/none", &applied);
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.message();
}

// The server stops: every call answers kUnavailable (no throw, no crash); it returns: the
// store reconnects by itself, also when the old connection died while idle.
TEST(PostgresControlStoreOutage, StoppedServerIsUnavailableThenHeals) {
  pgtest::PrivateCluster cluster;
  std::string why;
  ASSERT_TRUE(cluster.Start(&why)) << why;
  Status st;
  auto s = PostgresControlStore::Open(cluster.url(), &st);
  ASSERT_TRUE(s) << st.message();
  ChangeSet c;
  c.puts = {{"d/a.test", "{}"}};
  c.audit = {{1, "{}"}};
  ASSERT_TRUE(s->Commit(c).ok());

  ASSERT_TRUE(cluster.Stop(&why)) << why;
  std::string v;
  EXPECT_EQ(s->Get("d/a.test", &v).code(), Status::Code::kUnavailable);
  EXPECT_EQ(s->Commit(c).code(), Status::Code::kUnavailable);
  bool applied = true;
  EXPECT_EQ(s->CommitIfAbsent("a/x", c, &applied).code(), Status::Code::kUnavailable);
  EXPECT_FALSE(applied);
  EXPECT_EQ(s->PutUnsynced(c.puts).code(), Status::Code::kUnavailable);
  EXPECT_EQ(s->ScanPrefix("d/", [](auto&, auto&) { return true; }).code(),
            Status::Code::kUnavailable);
  std::vector<AuditRow> rows;
  EXPECT_EQ(s->ReadAudit(
                 0, 1, [](auto&) { return true; }, &rows)
                .code(),
            Status::Code::kUnavailable);
  EXPECT_EQ(s->LastAuditSeq(), 0u);
  Status open_st;
  EXPECT_FALSE(PostgresControlStore::Open(cluster.url(), &open_st));
  EXPECT_EQ(open_st.code(), Status::Code::kUnavailable) << open_st.message();

  ASSERT_TRUE(cluster.Start(&why)) << why;
  ASSERT_TRUE(s->Get("d/a.test", &v).ok()) << "reconnects after a failed call";
  EXPECT_EQ(s->LastAuditSeq(), 1u);

  ASSERT_TRUE(cluster.Stop(&why)) << why;
  ASSERT_TRUE(cluster.Start(&why)) << why;
  ChangeSet alert;
  alert.puts = {{"a/y", "{}"}};
  st = s->CommitIfAbsent("a/y", alert, &applied);
  EXPECT_TRUE(st.ok()) << "an idle connection lost to a restart is replaced: " << st.message();
  EXPECT_TRUE(applied);
}

}  // namespace
}  // namespace sw::control
