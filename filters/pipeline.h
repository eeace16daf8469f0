// Owns the scan of one message: every filter concurrently, each under its deadline, then policy.
// Fails by verdict: a filter that errs or overruns becomes an on_failure decision, never a throw.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "filters/filter.h"
#include "filters/policy.h"
#include "filters/verdict.h"

namespace sw::filters {

// Counters since start (for logs now, /metrics later).
struct PipelineStats {
  uint64_t scanned = 0;
  uint64_t accepted = 0;
  uint64_t tagged = 0;
  uint64_t rejected_spam = 0;
  uint64_t rejected_virus = 0;
  uint64_t tempfailed = 0;
  uint64_t filter_failures = 0;  // failed or timed-out filter runs
  uint64_t fail_open = 0;        // messages passed unscanned by a filter (on_failure: accept)
};

class Pipeline {
 public:
  explicit Pipeline(std::vector<std::unique_ptr<Filter>> filters);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // The verdict for `request` under `domain`'s policy: Unfiltered() when the domain does
  // not filter (nothing is scanned); otherwise every filter runs concurrently on the
  // caller's executor with its own deadline (Filter::Settings) and the results are merged
  // by Decide(). Completes on the caller's executor.
  boost::asio::awaitable<Verdict> Scan(const ScanRequest& request,
                                       const config::DomainConfig& domain);

  // Stops every filter's background work (threads joined). Call after the I/O threads
  // stopped and before their io_context is destroyed. Idempotent.
  void Stop();

  PipelineStats stats() const;
  const std::vector<std::unique_ptr<Filter>>& filters() const { return filters_; }

 private:
  boost::asio::awaitable<FilterResult> RunOne(Filter* filter, const ScanRequest& request,
                                              FilterSettings settings);
  void Count(const Verdict& v);
  // Prometheus series (common/metrics.h): verdicts by domain, scan time per filter,
  // failures per filter and kind, fail-open events per filter.
  void Report(const std::string& domain, const std::vector<PolicyInput>& inputs, const Verdict& v);

  std::vector<std::unique_ptr<Filter>> filters_;
  bool stopped_ = false;
  std::atomic<uint64_t> scanned_{0}, accepted_{0}, tagged_{0}, rejected_spam_{0},
      rejected_virus_{0}, tempfailed_{0}, filter_failures_{0}, fail_open_{0};
};

// Writes the `scanned` event: id, domain, verdict, reply code, score, action, top symbols,
// virus, ms per filter, unscanned and failed filters.
void LogScanned(const std::string& id, const std::string& domain, const Verdict& v);

}  // namespace sw::filters
