// Owns the ClamAV filter: one message -> a VirusScanner (sandboxed workers or in process) on a
// thread pool -> FilterResult.
// Fails by value: a scan error gives kFailed; the pipeline's deadline gives kTimeout.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "filters/filter.h"
#include "filters/virus_scanner.h"

namespace sw::filters {

class ClamavFilter : public Filter {
 public:
  // `threads`: concurrent scans (0: one per core).
  ClamavFilter(std::unique_ptr<VirusScanner> scanner, uint32_t threads);
  ~ClamavFilter() override;
  std::string_view name() const override { return "clamav"; }
  FilterSettings Settings(const config::FiltersConfig& config) const override;
  // Runs on the pool, completes on the caller's executor. A cancelled wait returns at once;
  // the scan already running finishes in the background and its result is dropped.
  boost::asio::awaitable<FilterResult> Scan(const ScanRequest& request) override;
  // Stops the reloader and the pool (scans not started are dropped). Idempotent.
  void Stop() override;
  VirusScanner& scanner() { return *scanner_; }

 private:
  std::unique_ptr<VirusScanner> scanner_;
  boost::asio::thread_pool pool_;
};

}  // namespace sw::filters
