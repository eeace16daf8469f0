// Owns the libclamav engine: load at startup, scan from memory, reload a changed database.
// Fails by value: Open returns null + reason (missing/empty DB); a failed reload keeps the old.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "filters/virus_scanner.h"

struct cl_engine;

namespace sw::filters {

struct ClamavOptions {
  std::string database;  // a directory of .cvd/.cld/.hdb/.ndb/... files, or one such file
  std::string temp_dir;  // where libclamav unpacks MIME parts and archives
  std::chrono::milliseconds reload_interval{60000};
};

// libclamav in this process (filters.clamav.isolation: thread), and the engine each sandboxed
// worker process holds (ClamavWorkerPool).
class ClamavEngine : public VirusScanner {
 public:
  // Loads and compiles the database now (this can take seconds with a full signature set).
  // Null with `error` set when the database is missing, holds no signatures or fails to
  // load, or when the temp dir is not a writable directory.
  static std::unique_ptr<ClamavEngine> Open(const ClamavOptions& options, std::string* error);
  ~ClamavEngine() override;
  ClamavEngine(const ClamavEngine&) = delete;
  ClamavEngine& operator=(const ClamavEngine&) = delete;

  // Scans one message from memory with mail parsing and archive unpacking on. Thread-safe;
  // a reload never disturbs a scan in progress (it keeps its engine alive).
  ClamavScan Scan(std::string_view data) const;
  ClamavScan Scan(std::string_view data, std::string_view) override { return Scan(data); }

  // Starts the background thread that checks the database every reload_interval and swaps
  // in a new engine when its files changed. Stop() (or the destructor) ends it.
  void StartReloading();
  void Stop() override;
  // One check now, on the calling thread: true when a changed database was loaded.
  bool ReloadIfChanged();

  unsigned signatures() const override;
  uint64_t generation() const override;  // 1 after Open, +1 per successful reload

  // A snapshot of the database files (names, sizes, mtimes); equal means unchanged.
  static std::string Fingerprint(const std::string& database);

 private:
  explicit ClamavEngine(ClamavOptions options);
  // Loads a fresh engine; null with `error` set on failure.
  std::shared_ptr<cl_engine> Build(unsigned* signatures, std::string* error) const;
  std::shared_ptr<cl_engine> Current() const;
  void ReloadLoop();

  ClamavOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<cl_engine> engine_;
  unsigned signatures_ = 0;
  uint64_t generation_ = 0;
  std::string fingerprint_;  // of the loaded database (or of the last failed attempt)

  std::mutex reload_mu_;  // one reload at a time
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread reloader_;
};

}  // namespace sw::filters
