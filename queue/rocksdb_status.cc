// Owns the mapping of RocksDB's status to the data plane's Status, shared by every RocksDB
// store (queue, control plane). Nothing here fails.
#include "queue/rocksdb_status.h"

namespace sw::queue {

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNoSpace() || s.subcode() == rocksdb::Status::kNoSpace)
    return Status(Status::Code::kNoSpace, s.ToString());
  if (s.IsNotFound()) return Status(Status::Code::kNotFound, s.ToString());
  if (s.IsCorruption()) return Status(Status::Code::kCorrupt, s.ToString());
  return Status(Status::Code::kIoError, s.ToString());
}

}  // namespace sw::queue
