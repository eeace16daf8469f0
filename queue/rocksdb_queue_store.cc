// Owns the RocksDB implementation of QueueStore: group-committed synced writes on one
// writer thread, body reads on a reader thread. Fails by Status (disk full -> kNoSpace).
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
  struct Item {
    rocksdb::ColumnFamilyHandle* cf;
    std::string key;
    std::string value;                         // small values (envelopes)
    std::shared_ptr<const std::string> large;  // bodies, not copied until the batch
    bool erase = false;
  };
  std::vector<Item> items;
  bool sync = false;
  Done done;
  void ApplyTo(rocksdb::WriteBatch& b) const {
    for (const auto& it : items) {
      if (it.erase)
        b.Delete(it.cf, it.key);
      else if (it.large)
        b.Put(it.cf, it.key, rocksdb::Slice(it.large->data(), it.large->size()));
      else
        b.Put(it.cf, it.key, it.value);
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
  if (db_) {
    db_->FlushWAL(true);
    db_->DestroyColumnFamilyHandle(envelopes_);
    db_->DestroyColumnFamilyHandle(bodies_);
    db_->DestroyColumnFamilyHandle(meta_);
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
    rocksdb::WriteBatch merged;
    bool sync = false;
    for (auto& op : ops) {
      op->ApplyTo(merged);
      sync = sync || op->sync;
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    rocksdb::Status s = db_->Write(wo, &merged);
    if (!s.ok()) need_resume = true;
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
  op->items.push_back({bodies_, env.id, {}, std::move(body), false});
  op->items.push_back({envelopes_, env.id, EncodeEnvelope(env), nullptr, false});
  Submit(std::move(op));
}

void RocksDbQueueStore::Update(const Envelope& env, bool sync, Done done) {
  auto op = std::make_unique<WriteOp>();
  op->sync = sync;
  op->done = std::move(done);
  op->items.push_back({envelopes_, env.id, EncodeEnvelope(env), nullptr, false});
  Submit(std::move(op));
}

void RocksDbQueueStore::Remove(const std::string& id, Done done) {
  auto op = std::make_unique<WriteOp>();
  op->done = std::move(done);
  op->items.push_back({envelopes_, id, {}, nullptr, true});
  op->items.push_back({bodies_, id, {}, nullptr, true});
  Submit(std::move(op));
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
