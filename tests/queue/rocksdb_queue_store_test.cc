// Tests the RocksDB store against a real database in a temp dir: durability across reopen,
// group commit (fsyncs counted under RocksDB), removal, quarantine of unreadable records.
#include "queue/rocksdb_queue_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <random>

#include "queue/record_codec.h"
#include "tests/queue/raw_queue_db.h"

namespace sw::queue {
namespace {

using sw::queue::test_support::RawQueueDb;

// RocksDB's file system with a count of the Sync/Fsync calls on write-ahead log files: what
// actually reached the disk, whatever the store says about itself.
class SyncCountingFs : public rocksdb::FileSystemWrapper {
 public:
  SyncCountingFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  static const char* kClassName() { return "SyncCountingFs"; }
  const char* Name() const override { return kClassName(); }
  uint64_t wal_syncs() const { return wal_syncs_; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, opts, file, dbg);
    if (s.ok() && name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0)
      *file = std::make_unique<CountingFile>(std::move(*file), &wal_syncs_);
    return s;
  }

 private:
  class CountingFile : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    CountingFile(std::unique_ptr<rocksdb::FSWritableFile> f, std::atomic<uint64_t>* n)
        : FSWritableFileOwnerWrapper(std::move(f)), n_(n) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      ++*n_;
      return target()->Sync(o, d);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      ++*n_;
      return target()->Fsync(o, d);
    }

   private:
    std::atomic<uint64_t>* n_;
  };
  std::atomic<uint64_t> wal_syncs_{0};
};

class RocksDbQueueStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("swq-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<RocksDbQueueStore> Open(rocksdb::Env* env = nullptr) {
    Status st;
    auto s = RocksDbQueueStore::Open(dir_.string(), &st, env);
    EXPECT_TRUE(s) << st.message();
    return s;
  }
  static Envelope Env(const std::string& id) {
    Envelope e;
    e.id = id;
    e.sender = "s@example.net";
    e.recipients = {{"r@example.com", "example.com", RcptState::kPending, ""}};
    return e;
  }
  static Status EnqueueSync(QueueStore& s, const Envelope& e, const std::string& body) {
    std::promise<Status> p;
    s.Enqueue(e, std::make_shared<const std::string>(body), [&](Status st) { p.set_value(st); });
    return p.get_future().get();
  }
  std::filesystem::path dir_;
};

TEST_F(RocksDbQueueStoreTest, EnqueuedMessageSurvivesReopen) {
  {
    auto s = Open();
    ASSERT_TRUE(EnqueueSync(*s, Env("0000000000000001"), "body one\r\n").ok());
  }
  auto s = Open();
  std::vector<Envelope> seen;
  ASSERT_TRUE(s->ScanEnvelopes([&](Envelope&& e) { seen.push_back(e); }).ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].id, "0000000000000001");
  std::promise<std::string> p;
  s->ReadBody("0000000000000001", [&](Status st, std::shared_ptr<const std::string> b) {
    p.set_value(st.ok() ? *b : "ERR " + st.message());
  });
  EXPECT_EQ(p.get_future().get(), "body one\r\n");
}

// Group commit: concurrent enqueues share fsyncs, and every one of them is synced. The WAL's
// own Sync/Fsync calls are counted below the store, so the test fails if none happens.
TEST_F(RocksDbQueueStoreTest, ConcurrentEnqueuesShareSyncs) {
  auto fs = std::make_shared<SyncCountingFs>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  auto s = Open(env.get());
  ASSERT_TRUE(s);
  const uint64_t syncs_at_open = fs->wal_syncs();
  constexpr int kThreads = 8, kPer = 200;
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        char id[17];
        std::snprintf(id, sizeof id, "%08X%08X", t, i);
        if (EnqueueSync(*s, Env(id), std::string(4096, 'x')).ok()) ++ok;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), kThreads * kPer);
  EXPECT_EQ(s->write_count(), static_cast<uint64_t>(kThreads * kPer));
  EXPECT_GE(s->sync_count(), 1u);
  EXPECT_LT(s->sync_count(), static_cast<uint64_t>(kThreads * kPer));
  // Each synced batch reached the WAL file's fsync.
  const uint64_t wal_syncs = fs->wal_syncs() - syncs_at_open;
  EXPECT_GE(wal_syncs, s->sync_count());
  size_t n = 0;
  ASSERT_TRUE(s->ScanEnvelopes([&](Envelope&&) { ++n; }).ok());
  EXPECT_EQ(n, static_cast<size_t>(kThreads * kPer));

  // Removals and unsynced updates are not synced (a crash may redeliver, never lose).
  const uint64_t before = s->sync_count();
  const uint64_t wal_before = fs->wal_syncs();
  for (int i = 0; i < 50; ++i) {
    char id[17];
    std::snprintf(id, sizeof id, "%08X%08X", 0, i);
    std::promise<Status> p;
    s->Remove(id, [&](Status st) { p.set_value(st); });
    ASSERT_TRUE(p.get_future().get().ok());
  }
  EXPECT_EQ(s->sync_count(), before);
  EXPECT_EQ(fs->wal_syncs(), wal_before);
  // And a synced update is one more synced batch, fsynced.
  std::promise<Status> p;
  s->Update(Env("0000000100000001"), true, [&](Status st) { p.set_value(st); });
  ASSERT_TRUE(p.get_future().get().ok());
  EXPECT_EQ(s->sync_count(), before + 1);
  EXPECT_GE(fs->wal_syncs(), wal_before + 1);
  s.reset();  // closed before the Env goes
}

TEST_F(RocksDbQueueStoreTest, RemoveDeletesEnvelopeAndBody) {
  auto s = Open();
  ASSERT_TRUE(EnqueueSync(*s, Env("0000000000000002"), "b").ok());
  std::promise<Status> p;
  s->Remove("0000000000000002", [&](Status st) { p.set_value(st); });
  ASSERT_TRUE(p.get_future().get().ok());
  size_t n = 0;
  s->ScanEnvelopes([&](Envelope&&) { ++n; });
  EXPECT_EQ(n, 0u);
  std::promise<Status> r;
  s->ReadBody("0000000000000002", [&](Status st, auto) { r.set_value(st); });
  EXPECT_EQ(r.get_future().get().code(), Status::Code::kNotFound);
}

TEST_F(RocksDbQueueStoreTest, UnreadableRecordIsQuarantinedNotDropped) {
  {
    auto s = Open();
    ASSERT_TRUE(EnqueueSync(*s, Env("0000000000000003"), "good").ok());
    ASSERT_TRUE(EnqueueSync(*s, Env("0000000000000004"), "bad").ok());
  }
  {
    // Corrupt one envelope behind the store's back.
    RawQueueDb raw;
    ASSERT_TRUE(raw.Open(dir_.string()));
    rocksdb::DB* db = raw.db;
    const auto& h = raw.handles;
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), h[1], "0000000000000004", "garbage").ok());
  }
  auto s = Open();
  std::vector<std::string> ids;
  ASSERT_TRUE(s->ScanEnvelopes([&](Envelope&& e) { ids.push_back(e.id); }).ok());
  EXPECT_EQ(ids, std::vector<std::string>{"0000000000000003"});
  std::string raw;
  ASSERT_TRUE(s->GetMeta("quarantine/0000000000000004", &raw).ok());
  EXPECT_EQ(raw, "garbage");
}

TEST_F(RocksDbQueueStoreTest, MetaRoundTrip) {
  auto s = Open();
  ASSERT_TRUE(s->PutMeta("domain/example.com", "down").ok());
  std::string v;
  ASSERT_TRUE(s->GetMeta("domain/example.com", &v).ok());
  EXPECT_EQ(v, "down");
  EXPECT_EQ(s->GetMeta("nope", &v).code(), Status::Code::kNotFound);
}

// Reads a page synchronously (the store answers on its reader thread).
struct Page {
  Status st;
  std::vector<Envelope> envs;
  std::string last;
  bool end = false;
};
Page ReadDomainSync(QueueStore& s, const std::string& domain, const std::string& after,
                    size_t limit) {
  std::promise<Page> p;
  s.ReadDomain(domain, after, limit,
               [&](Status st, std::vector<Envelope> e, std::string l, bool x) {
                 p.set_value({st, std::move(e), std::move(l), x});
               });
  return p.get_future().get();
}

CountCell Totals(const QueueStore& s, const std::string& domain) {
  CountCell c;
  s.VisitCounts([&](const std::map<std::string, DomainCounts>& all) {
    if (auto it = all.find(domain); it != all.end()) c = it->second.total;
  });
  return c;
}

// The domain index and the counters follow every write: enqueue, per-domain delivery, hold,
// removal; and they survive a reopen without reading an envelope.
TEST_F(RocksDbQueueStoreTest, DomainIndexAndCountersFollowWrites) {
  {
    auto s = Open();
    Envelope two = Env("0000000000000010");
    two.size = 100;
    two.recipients.push_back({"x@other.test", "other.test", RcptState::kPending, ""});
    ASSERT_TRUE(EnqueueSync(*s, two, std::string(100, 'b')).ok());
    for (int i = 11; i < 16; ++i) {
      Envelope e = Env("00000000000000" + std::to_string(i));
      e.size = 10;
      ASSERT_TRUE(EnqueueSync(*s, e, "0123456789").ok());
    }
    EXPECT_EQ(Totals(*s, "example.com").messages, 6);
    EXPECT_EQ(Totals(*s, "other.test").messages, 1);
    EXPECT_EQ(Totals(*s, kTotalsDomain).messages, 6);
    EXPECT_EQ(Totals(*s, kTotalsDomain).bytes, 150);
    // Delivered to example.com: it leaves that domain's index, stays in other.test's.
    two.recipients[0].state = RcptState::kDelivered;
    std::promise<Status> u;
    s->Update(two, false, [&](Status st) { u.set_value(st); });
    ASSERT_TRUE(u.get_future().get().ok());
    EXPECT_EQ(Totals(*s, "example.com").messages, 5);
    EXPECT_EQ(Totals(*s, "other.test").messages, 1);
    std::promise<Status> h;
    s->PatchMany({{"0000000000000011", 1, false}, {"0000000000000099", 1, false}}, true,
                 [&](Status st) { h.set_value(st); });
    ASSERT_TRUE(h.get_future().get().ok());
    EXPECT_EQ(Totals(*s, "example.com").held, 1);
    std::promise<Status> r;
    s->Remove("0000000000000012", [&](Status st) { r.set_value(st); });
    ASSERT_TRUE(r.get_future().get().ok());
  }
  auto s = Open();
  EXPECT_EQ(s->envelopes_read(), 0u);
  EXPECT_EQ(Totals(*s, "example.com").messages, 4);
  EXPECT_EQ(Totals(*s, "example.com").held, 1);
  EXPECT_EQ(Totals(*s, kTotalsDomain).messages, 5);
  EXPECT_EQ(s->LastId(), "0000000000000015");
  Page p = ReadDomainSync(*s, "example.com", "", 2);
  ASSERT_TRUE(p.st.ok());
  ASSERT_EQ(p.envs.size(), 2u);
  EXPECT_EQ(p.envs[0].id, "0000000000000011");
  EXPECT_TRUE(p.envs[0].held);
  EXPECT_FALSE(p.end);
  Page rest = ReadDomainSync(*s, "example.com", p.last, 10);
  ASSERT_EQ(rest.envs.size(), 2u);
  EXPECT_EQ(rest.envs[1].id, "0000000000000015");
  EXPECT_TRUE(rest.end);
  Page other = ReadDomainSync(*s, "other.test", "", 10);
  ASSERT_EQ(other.envs.size(), 1u);
  EXPECT_EQ(other.envs[0].id, "0000000000000010");
}

// A queue written by the previous format (envelopes and bodies, no indexes, no format key)
// gets its indexes and counters at the first Open.
TEST_F(RocksDbQueueStoreTest, PreviousFormatIsMigratedOnOpen) {
  {
    rocksdb::DBOptions o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {"envelopes", {}}, {"bodies", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> h;
    rocksdb::DB* db;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_.string(), cfs, &h, &db).ok());
    for (int i = 0; i < 3; ++i) {
      Envelope e = Env("000000000000002" + std::to_string(i));
      e.size = 4;
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), h[1], e.id, EncodeEnvelope(e)).ok());
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), h[2], e.id, "body").ok());
    }
    for (auto* x : h) db->DestroyColumnFamilyHandle(x);
    delete db;
  }
  auto s = Open();
  EXPECT_EQ(s->migrated(), 3u);
  EXPECT_EQ(Totals(*s, "example.com").messages, 3);
  EXPECT_EQ(ReadDomainSync(*s, "example.com", "", 10).envs.size(), 3u);
  s.reset();
  auto again = Open();
  EXPECT_EQ(again->migrated(), 0u) << "migrated once";
  EXPECT_EQ(Totals(*again, "example.com").messages, 3);
}

DuePage ReadDueSync(QueueStore& s, const std::string& after, int64_t now, size_t limit) {
  std::promise<DuePage> p;
  s.ReadDue(after, now, limit, [&](DuePage page) { p.set_value(std::move(page)); });
  return p.get_future().get();
}

Status Wait(const std::function<void(QueueStore::Done)>& start) {
  std::promise<Status> p;
  start([&](Status st) { p.set_value(st); });
  return p.get_future().get();
}

// (id, domain) of a due page, in order.
std::vector<std::string> DueOf(const DuePage& page) {
  std::vector<std::string> out;
  for (const auto& d : page.due) out.push_back(d.env.id + "/" + d.domain);
  return out;
}

using Strings = std::vector<std::string>;

// The next-attempt index follows the envelope in the same batch: a deferral adds one key per
// pending domain, a delivery to one domain removes its key, hold and flush remove them, a
// removal too; reads come in due order, stop at the first key not due, page by `limit`.
TEST_F(RocksDbQueueStoreTest, NextAttemptIndexFollowsTheEnvelope) {
  auto s = Open();
  Envelope a = Env("0000000000000031");
  a.recipients.push_back({"x@other.test", "other.test", RcptState::kPending, ""});
  Envelope b = Env("0000000000000032");
  Envelope c = Env("0000000000000033");
  for (const auto* e : {&a, &b, &c}) ASSERT_TRUE(EnqueueSync(*s, *e, "body").ok());
  EXPECT_TRUE(ReadDueSync(*s, "", 1LL << 50, 10).due.empty()) << "new mail is not deferred";
  a.next_attempt_ms = 2000;
  b.next_attempt_ms = 1000;
  c.next_attempt_ms = 5000;
  for (const auto* e : {&a, &b, &c})
    ASSERT_TRUE(Wait([&](QueueStore::Done d) { s->Update(*e, false, d); }).ok());
  DuePage all = ReadDueSync(*s, "", 4000, 10);
  ASSERT_TRUE(all.status.ok());
  EXPECT_EQ(DueOf(all), (Strings{"0000000000000032/example.com", "0000000000000031/example.com",
                                 "0000000000000031/other.test"}));
  EXPECT_EQ(all.next_due_ms, 5000) << "stops at the first key not due";
  ASSERT_EQ(all.due.size(), 3u);
  EXPECT_EQ(all.due[0].due_ms, 1000);
  EXPECT_EQ(all.due[0].env.next_attempt_ms, 1000);
  // Paging: a limit of one, then on from the cursor.
  DuePage first = ReadDueSync(*s, "", 4000, 1);
  EXPECT_EQ(DueOf(first), (Strings{"0000000000000032/example.com"}));
  EXPECT_EQ(first.next_due_ms, 2000) << "the next key is due already";
  EXPECT_EQ(DueOf(ReadDueSync(*s, first.last_key, 4000, 10)),
            (Strings{"0000000000000031/example.com", "0000000000000031/other.test"}));
  // Re-deferred: the old key goes with the write of the new one.
  b.next_attempt_ms = 3000;
  ASSERT_TRUE(Wait([&](QueueStore::Done d) { s->Update(b, false, d); }).ok());
  // Delivered to example.com: only other.test's key is left.
  a.recipients[0].state = RcptState::kDelivered;
  ASSERT_TRUE(Wait([&](QueueStore::Done d) { s->Update(a, false, d); }).ok());
  EXPECT_EQ(DueOf(ReadDueSync(*s, "", 1LL << 50, 10)),
            (Strings{"0000000000000031/other.test", "0000000000000032/example.com",
                     "0000000000000033/example.com"}));
  // Hold (b), flush (c: next attempt cleared), removal (a): no key is left.
  ASSERT_TRUE(Wait([&](QueueStore::Done d) {
                s->PatchMany({{b.id, 1, false}, {c.id, -1, true}}, true, d);
              }).ok());
  ASSERT_TRUE(Wait([&](QueueStore::Done d) { s->Remove(a.id, d); }).ok());
  DuePage none = ReadDueSync(*s, "", 1LL << 50, 10);
  EXPECT_TRUE(none.due.empty()) << DueOf(none).size();
  EXPECT_EQ(none.next_due_ms, 0);
  // Released and deferred again: its key survives a reopen.
  b.held = false;
  b.next_attempt_ms = 7000;
  ASSERT_TRUE(Wait([&](QueueStore::Done d) { s->Update(b, true, d); }).ok());
  s.reset();
  s = Open();
  DuePage after = ReadDueSync(*s, "", 6999, 10);
  EXPECT_TRUE(after.due.empty());
  EXPECT_EQ(after.next_due_ms, 7000);
  EXPECT_EQ(DueOf(ReadDueSync(*s, "", 7000, 10)), (Strings{"0000000000000032/example.com"}));
}

// A queue of format 2 (indexes and counters, no next-attempt index) gets it at Open: its
// deferred message is found by due time.
TEST_F(RocksDbQueueStoreTest, FormatTwoQueueGetsTheNextAttemptIndex) {
  {
    auto s = Open();
    Envelope e = Env("0000000000000041");
    e.next_attempt_ms = 4242;
    ASSERT_TRUE(EnqueueSync(*s, e, "body").ok());
    ASSERT_TRUE(EnqueueSync(*s, Env("0000000000000042"), "body").ok());
  }
  {  // Back to format 2: no by_retry keys, the format key says 2.
    RawQueueDb raw;
    ASSERT_TRUE(raw.Open(dir_.string()));
    rocksdb::DB* db = raw.db;
    const auto& h = raw.handles;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), h[5]));
    int keys = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++keys)
      ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), h[5], it->key()).ok());
    EXPECT_EQ(keys, 1);
    it.reset();
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), h[0], "format", "2").ok());
  }
  auto s = Open();
  EXPECT_EQ(s->migrated(), 2u);
  DuePage p = ReadDueSync(*s, "", 5000, 10);
  EXPECT_EQ(DueOf(p), (Strings{"0000000000000041/example.com"}));
  EXPECT_EQ(Totals(*s, "example.com").messages, 2);
}

// Counters that drifted (one too many for example.com, none for other.test) are recounted
// from the envelopes and replaced, durably; the repair reports the domains it fixed.
TEST_F(RocksDbQueueStoreTest, DriftedCountersAreRepaired) {
  {
    auto s = Open();
    for (int i = 0; i < 3; ++i) {
      Envelope e = Env("000000000000005" + std::to_string(i));
      e.size = 10;
      if (i == 0) e.recipients.push_back({"x@other.test", "other.test", RcptState::kPending, ""});
      ASSERT_TRUE(EnqueueSync(*s, e, "0123456789").ok());
    }
  }
  {
    RawQueueDb raw;
    ASSERT_TRUE(raw.Open(dir_.string()));
    rocksdb::DB* db = raw.db;
    const auto& h = raw.handles;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), h[4]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string domain;
      int64_t bucket = 0;
      CountCell c;
      ASSERT_TRUE(ParseCountKey(it->key().ToString(), &domain, &bucket));
      ASSERT_TRUE(DecodeCell(it->value().ToString(), &c));
      if (domain == "other.test") {
        ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), h[4], it->key()).ok());
      } else if (domain == "example.com") {
        c.messages += 1;  // a removal whose counter change was lost
        c.bytes += 10;
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), h[4], it->key(), EncodeCell(c)).ok());
      }
    }
    it.reset();
  }
  auto s = Open();
  EXPECT_EQ(Totals(*s, "example.com").messages, 4) << "the drift as stored";
  EXPECT_EQ(Totals(*s, "other.test").messages, 0);
  std::promise<std::vector<std::string>> p;
  s->RepairCounts([&](std::vector<std::string> r) { p.set_value(std::move(r)); });
  EXPECT_EQ(p.get_future().get(), (Strings{"example.com", "other.test"}));
  EXPECT_EQ(Totals(*s, "example.com").messages, 3);
  EXPECT_EQ(Totals(*s, "example.com").bytes, 30);
  EXPECT_EQ(Totals(*s, "other.test").messages, 1);
  EXPECT_EQ(Totals(*s, kTotalsDomain).messages, 3);
  s.reset();
  s = Open();
  EXPECT_EQ(Totals(*s, "example.com").messages, 3) << "the repair was written";
  EXPECT_EQ(Totals(*s, "other.test").messages, 1);
  std::promise<std::vector<std::string>> again;
  s->RepairCounts([&](std::vector<std::string> r) { again.set_value(std::move(r)); });
  EXPECT_TRUE(again.get_future().get().empty()) << "nothing drifted any more";
}

}  // namespace
}  // namespace sw::queue
