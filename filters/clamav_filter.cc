// Owns the ClamAV filter: one message -> a VirusScanner (sandboxed workers or in process) on a
// thread pool -> FilterResult.
// Fails by value: a scan error gives kFailed; the pipeline's deadline gives kTimeout.
#include "filters/clamav_filter.h"

#include <boost/asio/post.hpp>
#include <thread>

#include "common/external_op.h"

namespace sw::filters {

namespace {
size_t PoolSize(uint32_t threads) {
  if (threads > 0) return threads;
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}
}  // namespace

ClamavFilter::ClamavFilter(std::unique_ptr<VirusScanner> scanner, uint32_t threads)
    : scanner_(std::move(scanner)), pool_(PoolSize(threads)) {}

ClamavFilter::~ClamavFilter() { Stop(); }

void ClamavFilter::Stop() {
  scanner_->Stop();
  pool_.stop();
  pool_.join();
}

FilterSettings ClamavFilter::Settings(const config::FiltersConfig& config) const {
  return {config.clamav.timeout, config.clamav.on_failure};
}

boost::asio::awaitable<FilterResult> ClamavFilter::Scan(const ScanRequest& request) {
  std::shared_ptr<const std::string> body = request.body;
  VirusScanner* scanner = scanner_.get();
  boost::asio::thread_pool* pool = &pool_;
  auto start = [pool, body, scanner, id = request.id](Completer<FilterResult> complete) {
    boost::asio::post(*pool, [complete, body, scanner, id] {
      if (complete.done()) return;  // the wait was cancelled before we started
      ClamavScan s = scanner->Scan(*body, id);
      if (!s.ok) {
        complete(FilterResult::Failed("clamav", FilterOutcome::kFailed, s.error));
        return;
      }
      FilterResult r;
      r.filter = "clamav";
      r.virus = std::move(s.virus);
      complete(std::move(r));
    });
  };
  // A running scan cannot be interrupted; its result is dropped (a sandboxed worker that overruns
  // filters.clamav.timeout is killed and replaced).
  auto on_cancel = [] {};
  FilterResult r = co_await AwaitExternal<FilterResult>(
      std::move(start), std::move(on_cancel),
      FilterResult::Failed("clamav", FilterOutcome::kTimeout, "cancelled (deadline)"));
  co_return r;
}

}  // namespace sw::filters
