// Owns the RocksDB QueueStore: group-committed writes with their indexes, reads off-loop.
// Fails by Status (disk full -> kNoSpace).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "queue/indexed_batch.h"
#include "queue/queue_counters.h"
#include "queue/queue_store.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Env;
class WriteBatch;
}  // namespace rocksdb

namespace sw::queue {

class RocksDbQueueStore : public QueueStore {
 public:
  // Opens (creating) the database at `path`. On failure returns null and sets *error.
  // `env` (tests): RocksDB's file system goes through it, so a test can watch the fsyncs;
  // it must outlive the store. Null: the default.
  static std::unique_ptr<RocksDbQueueStore> Open(const std::string& path, Status* error,
                                                 rocksdb::Env* env = nullptr);
  ~RocksDbQueueStore() override;

  void Enqueue(const Envelope& env, std::shared_ptr<const std::string> body, Done done) override;
  void Update(const Envelope& env, bool sync, Done done) override;
  void Remove(const std::string& id, Done done) override;
  void ReadBody(const std::string& id,
                std::function<void(Status, std::shared_ptr<const std::string>)> done) override;
  void PatchMany(std::vector<Patch> patches, bool sync, Done done) override;
  void RemoveMany(std::vector<std::string> ids, bool sync, Done done) override;
  void ReadDomain(const std::string& domain, const std::string& after, size_t limit,
                  EnvelopesDone done) override;
  void ReadQueue(const std::string& after, size_t limit, EnvelopesDone done) override;
  void ReadEnvelope(const std::string& id, EnvelopesDone done) override;
  void ReadDue(const std::string& after_key, int64_t now_ms, size_t limit,
               std::function<void(DuePage)> done) override;
  void RepairCounts(std::function<void(std::vector<std::string> repaired)> done) override;
  void CancelRepair() override;
  Status ScanEnvelopes(const std::function<void(Envelope&&)>& fn) override;
  void VisitCounts(
      const std::function<void(const std::map<std::string, DomainCounts>&)>& fn) const override;
  std::string LastId() override;
  Status PutMeta(const std::string& key, const std::string& value) override;
  void PutMetaAsync(const std::string& key, const std::string& value, Done done) override;
  Status GetMeta(const std::string& key, std::string* value) override;
  Status ScanMeta(const std::string& prefix,
                  const std::function<void(const std::string&, const std::string&)>& fn) override;

  // Stats for benchmarks, metrics and tests. sync_count: write batches RocksDB wrote with
  // sync=true and reported durable (one per group commit); write_count: callers' writes answered.
  uint64_t sync_count() const { return syncs_; }
  uint64_t write_count() const { return writes_; }
  // Envelope records read so far (startup reads none: tests and `queue_loaded` show it).
  uint64_t envelopes_read() const { return envelopes_read_; }
  // Envelopes indexed by the format migration at Open (0: the queue was already current).
  uint64_t migrated() const { return migrated_; }

 private:
  struct WriteOp;
  struct Recount;
  RocksDbQueueStore() = default;
  void WriterLoop();
  void ReaderLoop();
  void Submit(std::unique_ptr<WriteOp> op);
  // Runs `job` on the reader thread once every write submitted before is applied.
  void ReadAfterWrites(std::function<void()> job);
  void ReadIndexed(const std::string& prefix, const std::string& after, size_t limit,
                   EnvelopesDone done);
  Status LoadCounts();
  // The counter repair's steps on the reader thread (counter_repair.cc).
  void RecountStep(std::shared_ptr<Recount> r);
  void FinishRecount(std::shared_ptr<Recount> r);
  void PostRead(std::function<void()> job);  // to the reader thread, no write barrier
  // An empty write: `done` runs on the writer thread after every write submitted before.
  void SubmitBarrier(Done done);
  void SubmitFix(CountDelta fix, Done done);  // a synced counter correction
  // Format 1 (no indexes) or 2 (no next-attempt index) -> 3: indexes and counters built
  // from the envelopes, once (queue_migration.cc).
  Status Migrate();

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* envelopes_ = nullptr;
  rocksdb::ColumnFamilyHandle* bodies_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* by_domain_ = nullptr;
  rocksdb::ColumnFamilyHandle* counts_ = nullptr;
  rocksdb::ColumnFamilyHandle* by_retry_ = nullptr;
  QueueColumns cols_;
  std::mutex repair_mu_;  // repair_done_: RepairCounts' caller, until delivered or cancelled
  std::function<void(std::vector<std::string>)> repair_done_;
  mutable std::mutex cmu_;  // counters_: written by the writer thread, read by anyone
  QueueCounters counters_;

  std::mutex wmu_;
  std::condition_variable wcv_;
  std::deque<std::unique_ptr<WriteOp>> wq_;
  bool stop_ = false;
  std::thread writer_;

  std::mutex rmu_;
  std::condition_variable rcv_;
  std::deque<std::function<void()>> rq_;
  bool rstop_ = false;
  std::thread reader_;

  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> envelopes_read_{0};
  uint64_t migrated_ = 0;
};

}  // namespace sw::queue
