// Owns a test's direct handle on a queue's RocksDB (every column family), opened behind the
// store's back to age or damage what it wrote; closed when it goes. Fails by Open's result.
#pragma once

#include <rocksdb/db.h>

#include <string>
#include <vector>

namespace sw::queue::test_support {

struct RawQueueDb {
  enum Cf { kDefault, kEnvelopes, kBodies, kByDomain, kCounts, kByRetry };
  ~RawQueueDb() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  // False when the database cannot be opened (the store still holds it, or it is not there).
  bool Open(const std::string& path) {
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                        {"envelopes", {}},
                                                        {"bodies", {}},
                                                        {"by_domain", {}},
                                                        {"counts", {}},
                                                        {"by_retry", {}}};
    return rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles, &db).ok();
  }
  rocksdb::ColumnFamilyHandle* cf(Cf c) const { return handles[c]; }

  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
};

}  // namespace sw::queue::test_support
