// Owns the virus scanner interface the ClamAV filter calls: one message in, clean/virus out.
// Fails by value: ClamavScan.ok false with the reason; implementations never throw.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sw::filters {

struct ClamavScan {
  bool ok = false;    // scanned (clean or infected)
  std::string virus;  // empty when clean
  std::string error;  // when !ok
};

// Implementations: ClamavEngine (libclamav in this process) and ClamavWorkerPool (libclamav in
// sandboxed worker processes, the default).
class VirusScanner {
 public:
  virtual ~VirusScanner() = default;
  // Scans one message; blocks the calling thread. Thread-safe. `id` (the queue ID) is for logs.
  virtual ClamavScan Scan(std::string_view data, std::string_view id) = 0;
  // Ends background work (database reloads, workers). Idempotent.
  virtual void Stop() = 0;
  virtual unsigned signatures() const = 0;
  virtual uint64_t generation() const = 0;  // 1 after start, +1 per database reload
};

}  // namespace sw::filters
