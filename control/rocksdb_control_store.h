// Owns the embedded (RocksDB) ControlStore: records and audit rows in their own database,
// every commit one synced WriteBatch. Fails by Status (disk full -> kNoSpace).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "control/control_store.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace sw::control {

class RocksDbControlStore : public ControlStore {
 public:
  // Opens (creating) the database at `path`; nullptr with `error` set on failure.
  static std::unique_ptr<RocksDbControlStore> Open(const std::string& path, Status* error);
  ~RocksDbControlStore() override;

  Status ScanPrefix(const std::string& prefix,
                    const std::function<bool(const std::string&, const std::string&)>& fn) override;
  Status Get(const std::string& key, std::string* json) override;
  Status Commit(const ChangeSet& changes) override;
  Status CommitIfAbsent(const std::string& guard, const ChangeSet& changes, bool* applied) override;
  Status PutUnsynced(const std::vector<RecordPut>& puts) override;
  Status UpdateUnsynced(const std::vector<RecordPut>& puts) override;
  Status ReadAudit(AuditCursor from, size_t limit,
                   const std::function<bool(const std::string&)>& keep,
                   std::vector<AuditRow>* out) override;
  uint64_t LastAuditSeq() override;
  // From a counter seeded with LastAuditSeq() at Open (one process owns the database).
  Status ReserveAuditSeqs(size_t n, uint64_t* first) override;

 private:
  RocksDbControlStore() = default;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* records_ = nullptr;
  rocksdb::ColumnFamilyHandle* audit_ = nullptr;
  rocksdb::ColumnFamilyHandle* default_ = nullptr;
  std::mutex guard_mu_;  // CommitIfAbsent's check and write are one step
  std::mutex seq_mu_;
  std::mutex update_mu_;   // Commit against UpdateUnsynced's check-then-put
  uint64_t seq_high_ = 0;  // the highest audit seq reserved or committed (under seq_mu_)
};

// Audit keys: the seq as 16 hex digits, so key order is seq order.
std::string AuditKey(uint64_t seq);

}  // namespace sw::control
