// Owns the mapping of RocksDB's status to the data plane's Status, shared by every RocksDB
// store (queue, control plane). Nothing here fails.
#pragma once

#include <rocksdb/status.h>

#include "common/status.h"

namespace sw::queue {

// ok -> kOk; out of space -> kNoSpace; not found, corruption; anything else kIoError.
Status FromRocks(const rocksdb::Status& s);

}  // namespace sw::queue
