// Owns a cluster node's local snapshot of the shared control plane: the tenant, token and domain
// records last read from PostgreSQL, kept in a local RocksDB so that the node starts and serves
// mail while the database is unreachable. Fails by Status: writes need the database (kUnavailable).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/control_store.h"
#include "control/rocksdb_control_store.h"

namespace sw::control {

// A ControlStore in front of the cluster's store (the primary, connected by `connect`). While
// connected, everything goes to the primary, and what the node reads of the records r/ c/ t/ d/
// (full reads and the change log) and writes itself is copied into the snapshot, unsynced (a
// crash loses at most the newest copies; the version kept never runs ahead of the records).
// Until connected (the database was down at start), the records and their version are read from
// the snapshot, every other read and every write answers kUnavailable, and WatchChanges retries
// the connection every `retry` and then follows the primary: the node reads what changed since
// the snapshot's version as after any outage of the database.
class SnapshotControlStore : public ControlStore {
 public:
  using Connect = std::function<std::unique_ptr<ControlStore>(Status* error)>;
  // Opens the snapshot at `path` (creating it) and tries `connect` once. nullptr with `error` set
  // when the snapshot cannot be opened, or the primary is unreachable and the snapshot was never
  // written (a node's first start needs the database).
  static std::unique_ptr<SnapshotControlStore> Open(const std::string& path, Connect connect,
                                                    std::chrono::milliseconds retry, Status* error);
  ~SnapshotControlStore() override;

  bool connected() const { return primary_.load(std::memory_order_acquire) != nullptr; }
  // Runs `fn` (on the watch thread) once the primary is connected, at once if it already is.
  void OnConnected(std::function<void()> fn);
  // The snapshot's change version and records (for the start-up log line).
  uint64_t snapshot_version() const { return local_version_.load(); }

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
  Status ReserveAuditSeqs(size_t n, uint64_t* first) override;
  Status CommitVersioned(const ChangeSet& changes, uint64_t* version) override;
  Status ChangeVersion(uint64_t* version) override;
  Status ReadChangesSince(uint64_t after, uint64_t* version, std::vector<RecordChange>* out,
                          bool* complete) override;
  bool WatchChanges(std::function<void(const WatchEvent&)> fn) override;
  void StopWatching() override;

 private:
  SnapshotControlStore() = default;
  ControlStore* Primary() const { return primary_.load(std::memory_order_acquire); }
  void RetryLoop();
  // Copies of what the primary answered or took.
  bool WriteCopies(const std::vector<RecordPut>& puts, const std::vector<std::string>& deletes);
  void CopyChangeSet(const ChangeSet& changes);
  void CopyPrefix(const std::string& prefix, std::vector<RecordPut>& records);
  void CopyChanges(const std::vector<RecordChange>& changes, uint64_t version);
  void SaveVersion(uint64_t version);

  std::unique_ptr<RocksDbControlStore> local_;
  Connect connect_;
  std::chrono::milliseconds retry_{1000};
  std::unique_ptr<ControlStore> owned_;
  std::atomic<ControlStore*> primary_{nullptr};
  std::atomic<uint64_t> local_version_{0};
  // A full read: the version read first, then the four prefixes; the version is saved once
  // all four were copied after it.
  std::mutex copy_mu_;
  uint64_t full_read_version_ = 0;
  unsigned full_read_prefixes_ = 0;
  bool saved_ = false;  // the version key exists
  // The connection retry (WatchChanges before the primary answered).
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  std::thread retry_thread_;
  bool stop_ = false;
  std::function<void(const WatchEvent&)> watch_fn_;
  std::vector<std::function<void()>> on_connected_;
};

// True for the keys the snapshot keeps: resellers, customers, tokens, domains.
bool SnapshotKey(const std::string& key);

}  // namespace sw::control
