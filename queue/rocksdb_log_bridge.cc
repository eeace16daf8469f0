// Owns the rocksdb::Logger that sends RocksDB's own warnings and errors to our event log
// (event=rocksdb) instead of a LOG file in the queue directory. Never fails: it writes nothing.
#include "queue/rocksdb_log_bridge.h"

#include <cstdarg>
#include <cstdio>
#include <string>

#include "common/log.h"

namespace sw::queue {

namespace {

class LogBridge final : public rocksdb::Logger {
 public:
  LogBridge() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}

  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }

  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel() || level == rocksdb::InfoLogLevel::HEADER_LEVEL) return;
    char buf[1024];
    int n = std::vsnprintf(buf, sizeof buf, format, ap);
    if (n < 0) return;
    std::string text(buf,
                     static_cast<size_t>(n) < sizeof buf ? static_cast<size_t>(n) : sizeof buf - 1);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL)
      log::Error("rocksdb").kv("msg", text);
    else
      log::Warn("rocksdb").kv("msg", text);
  }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> MakeRocksDbLogBridge() { return std::make_shared<LogBridge>(); }

}  // namespace sw::queue
