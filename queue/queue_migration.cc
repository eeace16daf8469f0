// Owns the on-disk format migration: format 1 (no indexes) and 2 (no next-attempt index) get
// every index built once at Open.
// Fails by Status (the store does not open; the format key is written last, never half-done).
#include <rocksdb/db.h>

#include "common/log.h"
#include "queue/indexed_batch.h"
#include "queue/rocksdb_queue_store.h"
#include "queue/rocksdb_status.h"

namespace sw::queue {

namespace {

constexpr char kFormatKey[] = "format";
constexpr char kFormatCurrent[] = "3";
constexpr size_t kMigrationBatch = 10000;

}  // namespace

Status RocksDbQueueStore::Migrate() {
  std::string format;
  rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), meta_, kFormatKey, &format);
  if (gs.ok() && format == kFormatCurrent) return Status::Ok();
  if (!gs.ok() && !gs.IsNotFound()) return FromRocks(gs);
  // Indexes left by an interrupted migration are rebuilt from scratch.
  for (auto* cf : {by_domain_, counts_, by_retry_}) {
    rocksdb::WriteBatch wipe;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) wipe.Delete(cf, it->key());
    if (auto s = db_->Write(rocksdb::WriteOptions(), &wipe); !s.ok()) return FromRocks(s);
  }
  QueueCounters counters;
  auto batch = std::make_unique<IndexedBatch>(*db_, cols_, counters);
  size_t in_batch = 0;
  Status failed = Status::Ok();
  auto flush = [&] {
    const CountDelta& delta = batch->Seal();
    if (auto s = db_->Write(rocksdb::WriteOptions(), &batch->raw()); !s.ok()) failed = FromRocks(s);
    counters.Apply(delta);
    batch = std::make_unique<IndexedBatch>(*db_, cols_, counters);
    in_batch = 0;
  };
  Status st = ScanEnvelopes([&](Envelope&& env) {
    if (!failed.ok()) return;
    // Rewritten as it is: only the index keys are new (format 2 -> 3: the by_retry keys of
    // deferred messages; by_domain and counts are rebuilt the same way, as from format 1).
    batch->PutEnvelope(env, true);
    ++migrated_;
    if (++in_batch == kMigrationBatch) flush();
  });
  if (st.ok() && failed.ok()) flush();
  if (!st.ok()) return st;
  if (!failed.ok()) return failed;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = db_->Put(wo, meta_, kFormatKey, kFormatCurrent); !s.ok()) return FromRocks(s);
  if (migrated_ > 0 || gs.ok())
    log::Info("queue_migrated")
        .kv("from_format", gs.ok() ? format : "1")
        .kv("to_format", kFormatCurrent)
        .kv("messages", migrated_);
  return Status::Ok();
}

}  // namespace sw::queue
