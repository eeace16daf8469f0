// Owns the RocksDB implementation of QueueStore: group-committed synced writes on one
// writer thread, body reads on a reader thread. Fails by Status (disk full -> kNoSpace).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

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
  Status ScanEnvelopes(const std::function<void(Envelope&&)>& fn) override;
  Status PutMeta(const std::string& key, const std::string& value) override;
  Status GetMeta(const std::string& key, std::string* value) override;

  // Stats for benchmarks, metrics and tests. sync_count: write batches RocksDB wrote with
  // sync=true and reported durable (one per group commit); write_count: callers' writes answered.
  uint64_t sync_count() const { return syncs_; }
  uint64_t write_count() const { return writes_; }

 private:
  struct WriteOp;
  RocksDbQueueStore() = default;
  void WriterLoop();
  void ReaderLoop();
  void Submit(std::unique_ptr<WriteOp> op);

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* envelopes_ = nullptr;
  rocksdb::ColumnFamilyHandle* bodies_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;

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
};

}  // namespace sw::queue
