// Owns the rocksdb::Logger that sends RocksDB's own warnings and errors to our event log
// (event=rocksdb) instead of a LOG file in the queue directory. Never fails: it writes nothing.
#pragma once

#include <rocksdb/env.h>

#include <memory>

namespace sw::queue {

// WARN and above become one `event=rocksdb` line each; INFO, DEBUG and the options header are
// dropped. With no file of its own, RocksDB's logging cannot fail (or abort) on a full disk.
std::shared_ptr<rocksdb::Logger> MakeRocksDbLogBridge();

}  // namespace sw::queue
