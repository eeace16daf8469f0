// Owns the ClamAV scanner: one message -> libclamav on a worker pool -> FilterResult.
// Fails by value: a scan error gives kFailed; the pipeline's deadline gives kTimeout.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "filters/clamav_engine.h"
#include "filters/filter.h"

namespace sw::filters {

class ClamavFilter : public Filter {
 public:
  // `threads`: scanner threads (0: one per core).
  ClamavFilter(std::unique_ptr<ClamavEngine> engine, uint32_t threads);
  ~ClamavFilter() override;
  std::string_view name() const override { return "clamav"; }
  FilterSettings Settings(const config::FiltersConfig& config) const override;
  // Runs on the pool, completes on the caller's executor. A cancelled wait returns at once;
  // the scan already running finishes in the background and its result is dropped.
  boost::asio::awaitable<FilterResult> Scan(const ScanRequest& request) override;
  // Stops the reloader and the pool (scans not started are dropped). Idempotent.
  void Stop() override;
  ClamavEngine& engine() { return *engine_; }

 private:
  std::unique_ptr<ClamavEngine> engine_;
  boost::asio::thread_pool pool_;
};

}  // namespace sw::filters
