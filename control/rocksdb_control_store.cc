// Owns the embedded (RocksDB) ControlStore: records and audit rows in their own database,
// every commit one synced WriteBatch. Fails by Status (disk full -> kNoSpace).
#include "control/rocksdb_control_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "queue/rocksdb_log_bridge.h"
#include "queue/rocksdb_status.h"

namespace sw::control {

using queue::FromRocks;

std::string AuditKey(uint64_t seq) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(seq));
  return buf;
}

std::unique_ptr<RocksDbControlStore> RocksDbControlStore::Open(const std::string& path,
                                                               Status* error) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    *error = Status(Status::Code::kIoError, "cannot create " + path + ": " + ec.message());
    return nullptr;
  }
  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  dbo.max_background_jobs = 1;
  dbo.paranoid_checks = true;
  dbo.info_log = queue::MakeRocksDbLogBridge();  // no LOG file (see the queue store)
  dbo.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  rocksdb::ColumnFamilyOptions cfo;
  cfo.write_buffer_size = 8 << 20;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, cfo}, {"records", cfo}, {"audit", cfo}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(dbo, path, cfs, &handles, &raw);
  if (!s.ok()) {
    *error = FromRocks(s);
    return nullptr;
  }
  std::unique_ptr<RocksDbControlStore> store(new RocksDbControlStore());
  store->db_.reset(raw);
  store->default_ = handles[0];
  store->records_ = handles[1];
  store->audit_ = handles[2];
  store->seq_high_ = store->LastAuditSeq();
  return store;
}

RocksDbControlStore::~RocksDbControlStore() {
  if (!db_) return;
  for (auto* h : {default_, records_, audit_})
    if (h) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

Status RocksDbControlStore::ScanPrefix(
    const std::string& prefix,
    const std::function<bool(const std::string&, const std::string&)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), records_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
    if (!fn(it->key().ToString(), it->value().ToString())) break;
  return FromRocks(it->status());
}

Status RocksDbControlStore::Get(const std::string& key, std::string* json) {
  return FromRocks(db_->Get(rocksdb::ReadOptions(), records_, key, json));
}

Status RocksDbControlStore::CommitIfAbsent(const std::string& guard, const ChangeSet& changes,
                                           bool* applied) {
  std::lock_guard lock(guard_mu_);
  *applied = false;
  std::string existing;
  Status st = Get(guard, &existing);
  if (st.ok()) return Status::Ok();
  if (st.code() != Status::Code::kNotFound) return st;
  st = Commit(changes);
  *applied = st.ok();
  return st;
}

Status RocksDbControlStore::Commit(const ChangeSet& changes) {
  std::lock_guard write_lock(update_mu_);  // an UpdateUnsynced's check and put around it
  rocksdb::WriteBatch b;
  for (const auto& p : changes.puts) b.Put(records_, p.key, p.json);
  for (const auto& k : changes.deletes) b.Delete(records_, k);
  uint64_t high = 0;
  for (const auto& a : changes.audit) {
    b.Put(audit_, AuditKey(a.seq), a.json);
    high = std::max(high, a.seq);
  }
  if (high > 0) {
    std::lock_guard lock(seq_mu_);
    seq_high_ = std::max(seq_high_, high);  // rows numbered by the caller count as reserved
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Write(wo, &b));
}

Status RocksDbControlStore::PutUnsynced(const std::vector<RecordPut>& puts) {
  rocksdb::WriteBatch b;
  for (const auto& p : puts) b.Put(records_, p.key, p.json);
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &b));
}

Status RocksDbControlStore::UpdateUnsynced(const std::vector<RecordPut>& puts) {
  std::lock_guard lock(update_mu_);
  rocksdb::WriteBatch b;
  for (const auto& p : puts) {
    std::string old;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), records_, p.key, &old);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return FromRocks(s);
    b.Put(records_, p.key, p.json);
  }
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &b));
}

Status RocksDbControlStore::ReadAudit(AuditCursor from, size_t limit,
                                      const std::function<bool(const std::string&)>& keep,
                                      std::vector<AuditRow>* out) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), audit_));
  if (!from.newest_first) {
    it->Seek(AuditKey(from.seq + 1));
  } else if (from.seq == 0) {
    it->SeekToLast();
  } else {
    it->SeekForPrev(AuditKey(from.seq - 1));
  }
  for (; it->Valid() && out->size() < limit; from.newest_first ? it->Prev() : it->Next()) {
    std::string json = it->value().ToString();
    if (!keep(json)) continue;
    out->push_back({std::stoull(it->key().ToString(), nullptr, 16), std::move(json)});
  }
  return FromRocks(it->status());
}

uint64_t RocksDbControlStore::LastAuditSeq() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), audit_));
  it->SeekToLast();
  if (!it->Valid()) return 0;
  return std::stoull(it->key().ToString(), nullptr, 16);
}

Status RocksDbControlStore::ReserveAuditSeqs(size_t n, uint64_t* first) {
  std::lock_guard lock(seq_mu_);
  *first = seq_high_ + 1;
  seq_high_ += n;
  return Status::Ok();
}

}  // namespace sw::control
