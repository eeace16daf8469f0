// Owns the RocksDB QueueStore: group-committed writes with their indexes, reads off-loop.
// Fails by Status (disk full -> kNoSpace).
#include "queue/rocksdb_queue_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <filesystem>

#include "common/log.h"
#include "queue/record_codec.h"
#include "queue/rocksdb_log_bridge.h"
#include "queue/rocksdb_status.h"

namespace sw::queue {

// One caller's write: applied to the shared batch by the writer thread.
struct RocksDbQueueStore::WriteOp {
  enum class Kind { kRaw, kEnvelope, kErase, kPatch, kAdjust };
  struct Item {
    Kind kind = Kind::kRaw;
    rocksdb::ColumnFamilyHandle* cf = nullptr;  // kRaw
    std::string key;                            // kRaw: key; kErase / kPatch: ID
    std::string value;                          // kRaw: small values
    std::shared_ptr<const std::string> large;   // bodies, not copied until the batch
    bool erase = false;                         // kRaw
    Envelope env;                               // kEnvelope
    bool fresh = false;                         // kEnvelope: a new message
    Patch patch;                                // kPatch
    CountDelta fix;                             // kAdjust: a counter correction
  };
  std::vector<Item> items;
  bool sync = false;
  Done done;
  void ApplyTo(IndexedBatch& b) const {
    for (const auto& it : items) {
      switch (it.kind) {
        case Kind::kRaw:
          if (it.erase)
            b.raw().Delete(it.cf, it.key);
          else if (it.large)
            b.raw().Put(it.cf, it.key, rocksdb::Slice(it.large->data(), it.large->size()));
          else
            b.raw().Put(it.cf, it.key, it.value);
          break;
        case Kind::kEnvelope:
          b.PutEnvelope(it.env, it.fresh);
          break;
        case Kind::kErase:
          b.EraseEnvelope(it.key);
          break;
        case Kind::kPatch:
          b.Patch(it.patch.id, it.patch.held, it.patch.clear_next_attempt);
          break;
        case Kind::kAdjust:
          b.AdjustCounts(it.fix);
          break;
      }
    }
  }
};

std::unique_ptr<RocksDbQueueStore> RocksDbQueueStore::Open(const std::string& path, Status* error,
                                                           rocksdb::Env* env) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    *error = Status(Status::Code::kIoError, "cannot create " + path + ": " + ec.message());
    return nullptr;
  }
  rocksdb::DBOptions dbo;
  if (env) dbo.env = env;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  dbo.max_background_jobs = 2;
  dbo.paranoid_checks = true;
  // WAL is the durability mechanism: every acknowledged message is in a synced WAL record.
  dbo.manual_wal_flush = false;
  // RocksDB's warnings go to our log: its own LOG file writer aborts the process (an assert
  // in Debian's build) when it is reused after a write error on a full disk.
  dbo.info_log = MakeRocksDbLogBridge();
  dbo.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;

  rocksdb::ColumnFamilyOptions small;  // envelopes, meta: small values
  small.write_buffer_size = 16 << 20;
  rocksdb::ColumnFamilyOptions big;  // bodies: written once, read rarely, deleted soon
  // Memtables bound the RAM that queued bodies can take (2 x 32 MiB), whatever the backlog.
  big.write_buffer_size = 32 << 20;
  big.max_write_buffer_number = 2;
  big.enable_blob_files = true;  // keep bodies out of compactions
  big.min_blob_size = 1024;
  big.enable_blob_garbage_collection = true;

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, small},
      {"envelopes", small},
      {"bodies", big},
      {"by_domain", small},
      {"counts", small},
      {"by_retry", small},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(dbo, path, cfs, &handles, &raw);
  if (!s.ok()) {
    *error = FromRocks(s);
    return nullptr;
  }
  std::unique_ptr<RocksDbQueueStore> store(new RocksDbQueueStore());
  store->db_.reset(raw);
  store->meta_ = handles[0];
  store->envelopes_ = handles[1];
  store->bodies_ = handles[2];
  store->by_domain_ = handles[3];
  store->counts_ = handles[4];
  store->by_retry_ = handles[5];
  store->cols_ = {store->meta_,      store->envelopes_, store->bodies_,
                  store->by_domain_, store->counts_,    store->by_retry_};
  Status mst = store->Migrate();
  if (mst.ok()) mst = store->LoadCounts();
  if (!mst.ok()) {
    *error = mst;
    return nullptr;
  }
  store->writer_ = std::thread([p = store.get()] { p->WriterLoop(); });
  store->reader_ = std::thread([p = store.get()] { p->ReaderLoop(); });
  return store;
}

RocksDbQueueStore::~RocksDbQueueStore() {
  {
    std::lock_guard lk(wmu_);
    stop_ = true;
  }
  wcv_.notify_all();
  {
    std::lock_guard lk(rmu_);
    rstop_ = true;
  }
  rcv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (reader_.joinable()) reader_.join();
  rq_.clear();  // a job queued after the reader stopped (a recount's snapshot goes with it)
  if (db_) {
    db_->FlushWAL(true);
    // Memtables to table files on a clean stop: the next start replays no write-ahead log
    // (restart time and memory independent of what was written last).
    rocksdb::FlushOptions fo;
    db_->Flush(fo, {meta_, envelopes_, bodies_, by_domain_, counts_, by_retry_});
    db_->DestroyColumnFamilyHandle(envelopes_);
    db_->DestroyColumnFamilyHandle(bodies_);
    db_->DestroyColumnFamilyHandle(meta_);
    db_->DestroyColumnFamilyHandle(by_domain_);
    db_->DestroyColumnFamilyHandle(counts_);
    db_->DestroyColumnFamilyHandle(by_retry_);
    db_->Close();
  }
}

void RocksDbQueueStore::Submit(std::unique_ptr<WriteOp> op) {
  {
    std::lock_guard lk(wmu_);
    wq_.push_back(std::move(op));
  }
  wcv_.notify_one();
}

// Group commit: everything queued while the previous sync ran goes into one WriteBatch and
// one fsync. Callers are answered after the batch is durable (or failed as a whole).
void RocksDbQueueStore::WriterLoop() {
  std::vector<std::unique_ptr<WriteOp>> ops;
  bool need_resume = false;
  for (;;) {
    {
      std::unique_lock lk(wmu_);
      wcv_.wait(lk, [&] { return stop_ || !wq_.empty(); });
      if (wq_.empty() && stop_) return;
      while (!wq_.empty()) {
        ops.push_back(std::move(wq_.front()));
        wq_.pop_front();
      }
    }
    if (need_resume) {
      rocksdb::Status rs = db_->Resume();
      if (rs.ok()) need_resume = false;
    }
    IndexedBatch merged(*db_, cols_, counters_);  // only this thread changes counters_
    bool sync = false;
    for (auto& op : ops) {
      op->ApplyTo(merged);
      sync = sync || op->sync;
    }
    const CountDelta& delta = merged.Seal();
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    rocksdb::Status s =
        merged.raw().Count() > 0 ? db_->Write(wo, &merged.raw()) : rocksdb::Status::OK();
    if (!s.ok()) need_resume = true;
    if (s.ok() && !delta.empty()) {
      std::lock_guard lk(cmu_);
      counters_.Apply(delta);
    }
    if (sync && s.ok()) ++syncs_;
    writes_ += ops.size();
    Status st = FromRocks(s);
    for (auto& op : ops)
      if (op->done) op->done(st);
    ops.clear();
  }
}

void RocksDbQueueStore::ReaderLoop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lk(rmu_);
      rcv_.wait(lk, [&] { return !rq_.empty() || rstop_; });
      if (rq_.empty()) return;
      job = std::move(rq_.front());
      rq_.pop_front();
    }
    job();
  }
}

void RocksDbQueueStore::Enqueue(const Envelope& env, std::shared_ptr<const std::string> body,
                                Done done) {
  auto op = std::make_unique<WriteOp>();
  op->sync = true;
  op->done = std::move(done);
  WriteOp::Item b;
  b.cf = bodies_;
  b.key = env.id;
  b.large = std::move(body);
  op->items.push_back(std::move(b));
  WriteOp::Item e;
  e.kind = WriteOp::Kind::kEnvelope;
  e.env = env;
  e.fresh = true;
  op->items.push_back(std::move(e));
  Submit(std::move(op));
}

void RocksDbQueueStore::Update(const Envelope& env, bool sync, Done done) {
  auto op = std::make_unique<WriteOp>();
  op->sync = sync;
  op->done = std::move(done);
  WriteOp::Item e;
  e.kind = WriteOp::Kind::kEnvelope;
  e.env = env;
  op->items.push_back(std::move(e));
  Submit(std::move(op));
}

void RocksDbQueueStore::Remove(const std::string& id, Done done) {
  RemoveMany({id}, false, std::move(done));
}

void RocksDbQueueStore::RemoveMany(std::vector<std::string> ids, bool sync, Done done) {
  auto op = std::make_unique<WriteOp>();
  op->sync = sync;
  op->done = std::move(done);
  for (auto& id : ids) {
    WriteOp::Item e;
    e.kind = WriteOp::Kind::kErase;
    e.key = std::move(id);
    op->items.push_back(std::move(e));
  }
  Submit(std::move(op));
}

void RocksDbQueueStore::PatchMany(std::vector<Patch> patches, bool sync, Done done) {
  auto op = std::make_unique<WriteOp>();
  op->sync = sync;
  op->done = std::move(done);
  for (auto& p : patches) {
    WriteOp::Item e;
    e.kind = WriteOp::Kind::kPatch;
    e.patch = std::move(p);
    op->items.push_back(std::move(e));
  }
  Submit(std::move(op));
}

void RocksDbQueueStore::PutMetaAsync(const std::string& key, const std::string& value, Done done) {
  auto op = std::make_unique<WriteOp>();
  op->sync = true;
  op->done = std::move(done);
  WriteOp::Item m;
  m.cf = meta_;
  m.key = key;
  m.value = value;
  op->items.push_back(std::move(m));
  Submit(std::move(op));
}

void RocksDbQueueStore::SubmitBarrier(Done done) {
  auto op = std::make_unique<WriteOp>();
  op->done = std::move(done);
  Submit(std::move(op));
}

void RocksDbQueueStore::SubmitFix(CountDelta fix, Done done) {
  auto op = std::make_unique<WriteOp>();
  op->sync = true;
  op->done = std::move(done);
  WriteOp::Item item;
  item.kind = WriteOp::Kind::kAdjust;
  item.fix = std::move(fix);
  op->items.push_back(std::move(item));
  Submit(std::move(op));
}

void RocksDbQueueStore::PostRead(std::function<void()> job) {
  {
    std::lock_guard lk(rmu_);
    rq_.push_back(std::move(job));
  }
  rcv_.notify_one();
}

void RocksDbQueueStore::ReadAfterWrites(std::function<void()> job) {
  auto op = std::make_unique<WriteOp>();
  op->done = [this, job = std::move(job)](Status) mutable {
    {
      std::lock_guard lk(rmu_);
      rq_.push_back(std::move(job));
    }
    rcv_.notify_one();
  };
  Submit(std::move(op));
}

// Walks by_domain keys under `prefix` (or the envelopes themselves when `prefix` is empty)
// after ID `after`; reads the envelopes the keys name.
void RocksDbQueueStore::ReadIndexed(const std::string& prefix, const std::string& after,
                                    size_t limit, EnvelopesDone done) {
  ReadAfterWrites([this, prefix, after, limit, done = std::move(done)] {
    rocksdb::ReadOptions ro;
    bool by_domain = !prefix.empty();
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(ro, by_domain ? by_domain_ : envelopes_));
    std::vector<Envelope> out;
    std::string last = after;
    it->Seek(prefix + after);
    if (it->Valid() && !after.empty() && it->key().ToString() == prefix + after) it->Next();
    for (; it->Valid() && out.size() < limit; it->Next()) {
      rocksdb::Slice k = it->key();
      if (!k.starts_with(prefix)) break;
      std::string id = k.ToString().substr(prefix.size());
      last = id;
      std::string raw;
      if (by_domain) {
        if (!db_->Get(ro, envelopes_, id, &raw).ok()) continue;
      } else {
        raw = it->value().ToString();
      }
      ++envelopes_read_;
      auto env = DecodeEnvelope(raw);
      if (env && env->id == id) out.push_back(std::move(*env));
    }
    bool end = !it->Valid() || !it->key().starts_with(prefix);
    Status st = FromRocks(it->status());
    done(st, std::move(out), std::move(last), end);
  });
}

void RocksDbQueueStore::ReadDomain(const std::string& domain, const std::string& after,
                                   size_t limit, EnvelopesDone done) {
  ReadIndexed(DomainPrefix(domain), after, limit, std::move(done));
}

void RocksDbQueueStore::ReadQueue(const std::string& after, size_t limit, EnvelopesDone done) {
  ReadIndexed("", after, limit, std::move(done));
}

void RocksDbQueueStore::ReadEnvelope(const std::string& id, EnvelopesDone done) {
  ReadAfterWrites([this, id, done = std::move(done)] {
    std::string raw;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), envelopes_, id, &raw);
    std::vector<Envelope> out;
    if (s.ok()) {
      ++envelopes_read_;
      if (auto env = DecodeEnvelope(raw); env && env->id == id) out.push_back(std::move(*env));
    }
    done(s.IsNotFound() ? Status::Ok() : FromRocks(s), std::move(out), id, true);
  });
}

// Walks by_retry in due order after `after_key`, stops at the first key not yet due.
void RocksDbQueueStore::ReadDue(const std::string& after_key, int64_t now_ms, size_t limit,
                                std::function<void(DuePage)> done) {
  ReadAfterWrites([this, after_key, now_ms, limit, done = std::move(done)] {
    rocksdb::ReadOptions ro;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, by_retry_));
    DuePage page;
    page.last_key = after_key;
    if (after_key.empty()) {
      it->SeekToFirst();
    } else {
      it->Seek(after_key);
      if (it->Valid() && it->key() == rocksdb::Slice(after_key)) it->Next();
    }
    for (; it->Valid(); it->Next()) {
      DueRetry d;
      std::string id;
      if (!ParseRetryKey(std::string_view(it->key().data(), it->key().size()), &d.due_ms, &id,
                         &d.domain))
        continue;
      if (d.due_ms > now_ms || page.due.size() >= limit) {
        page.next_due_ms = d.due_ms;
        break;
      }
      page.last_key = it->key().ToString();
      std::string raw;
      if (!db_->Get(ro, envelopes_, id, &raw).ok()) continue;
      ++envelopes_read_;
      auto env = DecodeEnvelope(raw);
      if (!env || env->id != id) continue;
      d.env = std::move(*env);
      page.due.push_back(std::move(d));
    }
    page.status = FromRocks(it->status());
    done(std::move(page));
  });
}

void RocksDbQueueStore::VisitCounts(
    const std::function<void(const std::map<std::string, DomainCounts>&)>& fn) const {
  std::lock_guard lk(cmu_);
  fn(counters_.domains());
}

Status RocksDbQueueStore::LoadCounts() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), counts_));
  std::lock_guard lk(cmu_);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string domain;
    int64_t bucket = 0;
    CountCell c;
    if (ParseCountKey(std::string_view(it->key().data(), it->key().size()), &domain, &bucket) &&
        DecodeCell(std::string_view(it->value().data(), it->value().size()), &c))
      counters_.Set(domain, bucket, c);
  }
  return FromRocks(it->status());
}

std::string RocksDbQueueStore::LastId() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), envelopes_));
  it->SeekToLast();
  return it->Valid() ? it->key().ToString() : "";
}

Status RocksDbQueueStore::ScanMeta(
    const std::string& prefix,
    const std::function<void(const std::string&, const std::string&)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
    fn(it->key().ToString(), it->value().ToString());
  return FromRocks(it->status());
}

void RocksDbQueueStore::ReadBody(
    const std::string& id, std::function<void(Status, std::shared_ptr<const std::string>)> done) {
  auto job = [this, id, done = std::move(done)] {
    auto body = std::make_shared<std::string>();
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), bodies_, id, body.get());
    done(FromRocks(s), s.ok() ? std::move(body) : nullptr);
  };
  {
    std::lock_guard lk(rmu_);
    rq_.push_back(std::move(job));
  }
  rcv_.notify_one();
}

Status RocksDbQueueStore::ScanEnvelopes(const std::function<void(Envelope&&)>& fn) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, envelopes_));
  std::vector<std::pair<std::string, std::string>> bad;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto env = DecodeEnvelope(std::string_view(it->value().data(), it->value().size()));
    if (!env || env->id != it->key().ToString()) {
      bad.emplace_back(it->key().ToString(), it->value().ToString());
      continue;
    }
    fn(std::move(*env));
  }
  if (!it->status().ok()) return FromRocks(it->status());
  for (auto& [key, value] : bad) {
    // Move aside, never drop: the raw record stays in meta under "quarantine/<id>".
    rocksdb::WriteBatch b;
    b.Put(meta_, "quarantine/" + key, value);
    b.Delete(envelopes_, key);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db_->Write(wo, &b);
    log::Error("record_quarantined")
        .kv("id", key)
        .kv("bytes", value.size())
        .kv("reason", "unreadable envelope record")
        .kv("moved_to", "quarantine/" + key)
        .kv("status", s.ok() ? "ok" : s.ToString());
  }
  return Status::Ok();
}

Status RocksDbQueueStore::PutMeta(const std::string& key, const std::string& value) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Put(wo, meta_, key, value));
}

Status RocksDbQueueStore::GetMeta(const std::string& key, std::string* value) {
  return FromRocks(db_->Get(rocksdb::ReadOptions(), meta_, key, value));
}

}  // namespace sw::queue
