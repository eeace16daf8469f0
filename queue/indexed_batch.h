// Owns one group commit's WriteBatch with the queue indexes and counters kept in step.
// Fails never itself; a record it cannot read is treated as absent (nothing to unindex).
#pragma once

#include <rocksdb/write_batch.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "queue/envelope.h"
#include "queue/queue_counters.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace sw::queue {

struct QueueColumns {
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* envelopes = nullptr;
  rocksdb::ColumnFamilyHandle* bodies = nullptr;
  rocksdb::ColumnFamilyHandle* by_domain = nullptr;
  rocksdb::ColumnFamilyHandle* counts = nullptr;
  rocksdb::ColumnFamilyHandle* by_retry = nullptr;
};

class IndexedBatch {
 public:
  IndexedBatch(rocksdb::DB& db, const QueueColumns& cf, const QueueCounters& counters)
      : db_(db), cf_(cf), counters_(counters) {}

  // `fresh`: a new message, nothing stored under its ID yet (no read).
  void PutEnvelope(const Envelope& env, bool fresh);
  void EraseEnvelope(const std::string& id);
  // Rewrites a stored envelope's held flag (-1: unchanged) and next attempt; skips a gone one.
  void Patch(const std::string& id, int held, bool clear_next_attempt);
  // Adds a counter correction (the counter repair): written with the batch's other changes.
  void AdjustCounts(const CountDelta& fix);
  rocksdb::WriteBatch& raw() { return batch_; }
  // Adds the counters' new cell values to the batch; returns the delta to apply once durable.
  const CountDelta& Seal();

 private:
  std::optional<Envelope> Current(const std::string& id);
  void Replace(const std::optional<Envelope>& old, const std::optional<Envelope>& now,
               const std::string& id);

  rocksdb::DB& db_;
  QueueColumns cf_;
  const QueueCounters& counters_;
  rocksdb::WriteBatch batch_;
  std::map<std::string, std::optional<Envelope>> staged_;  // this batch's view by ID
  CountDelta delta_;
};

}  // namespace sw::queue
