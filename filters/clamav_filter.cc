// Owns the ClamAV scanner: one message -> libclamav on a worker pool -> FilterResult.
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

ClamavFilter::ClamavFilter(std::unique_ptr<ClamavEngine> engine, uint32_t threads)
    : engine_(std::move(engine)), pool_(PoolSize(threads)) {}

ClamavFilter::~ClamavFilter() { Stop(); }

void ClamavFilter::Stop() {
  engine_->Stop();
  pool_.stop();
  pool_.join();
}

FilterSettings ClamavFilter::Settings(const config::FiltersConfig& config) const {
  return {config.clamav.timeout, config.clamav.on_failure};
}

boost::asio::awaitable<FilterResult> ClamavFilter::Scan(const ScanRequest& request) {
  std::shared_ptr<const std::string> body = request.body;
  ClamavEngine* engine = engine_.get();
  boost::asio::thread_pool* pool = &pool_;
  auto start = [pool, body, engine](Completer<FilterResult> complete) {
    boost::asio::post(*pool, [complete, body, engine] {
      if (complete.done()) return;  // the wait was cancelled before we started
      ClamavScan s = engine->Scan(*body);
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
  auto on_cancel = [] {};  // a running libclamav scan cannot be interrupted; its result is dropped
  FilterResult r = co_await AwaitExternal<FilterResult>(
      std::move(start), std::move(on_cancel),
      FilterResult::Failed("clamav", FilterOutcome::kTimeout, "cancelled (deadline)"));
  co_return r;
}

}  // namespace sw::filters
