// Owns the scan of one message: every filter concurrently, each under its deadline, then policy.
// Fails by verdict: a filter that errs or overruns becomes an on_failure decision, never a throw.
#include "filters/pipeline.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>

#include "common/log.h"
#include "common/metrics.h"
#include "filters/policy.h"

namespace sw::filters {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {
// How many symbols the `scanned` log line names.
constexpr size_t kLogSymbols = 6;
// Buckets of spamweeder_filter_scan_seconds.
const std::vector<double> kLatencyBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                            0.5,   1,    2.5,   5,    10,  30};
}  // namespace

Pipeline::Pipeline(std::vector<std::unique_ptr<Filter>> filters) : filters_(std::move(filters)) {}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& f : filters_) f->Stop();
}

namespace {
// A filter that throws (it should not) becomes a failed result at once; `||` would otherwise
// treat the exception as "not done" and wait for the deadline.
asio::awaitable<FilterResult> Guarded(Filter* filter, const ScanRequest& request) {
  try {
    co_return co_await filter->Scan(request);
  } catch (const std::exception& e) {
    co_return FilterResult::Failed(std::string(filter->name()), FilterOutcome::kFailed,
                                   std::string("internal error: ") + e.what());
  }
}
}  // namespace

asio::awaitable<FilterResult> Pipeline::RunOne(Filter* filter, const ScanRequest& request,
                                               FilterSettings settings) {
  using namespace asio::experimental::awaitable_operators;
  auto start = Clock::now();
  std::string name(filter->name());
  FilterResult r;
  try {
    asio::steady_timer deadline(co_await asio::this_coro::executor, settings.timeout);
    auto first = co_await (Guarded(filter, request) ||
                           deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (first.index() == 0) {
      r = std::move(std::get<0>(first));
    } else {
      r = FilterResult::Failed(
          name, FilterOutcome::kTimeout,
          "no answer within " + std::to_string(settings.timeout.count()) + " ms");
    }
  } catch (const std::exception& e) {
    r = FilterResult::Failed(name, FilterOutcome::kFailed,
                             std::string("internal error: ") + e.what());
  }
  r.filter = name;
  r.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  co_return r;
}

asio::awaitable<Verdict> Pipeline::Scan(const ScanRequest& request,
                                        const config::DomainConfig& domain) {
  if (!domain.filtering) co_return Unfiltered();
  auto ex = co_await asio::this_coro::executor;
  const config::FiltersConfig& fc = request.config->filters;
  std::vector<PolicyInput> inputs(filters_.size());
  using Op =
      decltype(asio::co_spawn(ex, std::declval<asio::awaitable<FilterResult>>(), asio::deferred));
  std::vector<Op> ops;
  ops.reserve(filters_.size());
  for (size_t i = 0; i < filters_.size(); ++i) {
    FilterSettings s = filters_[i]->Settings(fc);
    inputs[i].on_failure = s.on_failure;
    ops.push_back(asio::co_spawn(ex, RunOne(filters_[i].get(), request, s), asio::deferred));
  }
  if (!ops.empty()) {
    auto group = asio::experimental::make_parallel_group(std::move(ops));
    auto [order, errors, results] =
        co_await group.async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    for (size_t i = 0; i < results.size() && i < inputs.size(); ++i) {
      if (errors[i]) {
        inputs[i].result = FilterResult::Failed(std::string(filters_[i]->name()),
                                                FilterOutcome::kFailed, "internal error");
      } else {
        inputs[i].result = std::move(results[i]);
      }
    }
  }
  Verdict v = Decide(domain, inputs);
  Count(v);
  Report(domain.name, inputs, v);
  co_return v;
}

void Pipeline::Count(const Verdict& v) {
  ++scanned_;
  filter_failures_ += v.failures.size();
  if (!v.unscanned.empty() && v.disposition != Disposition::kReject &&
      v.disposition != Disposition::kTempfail)
    ++fail_open_;
  switch (v.disposition) {
    case Disposition::kAccept:
      ++accepted_;
      break;
    case Disposition::kTag:
      ++tagged_;
      break;
    case Disposition::kReject:
      (v.reason == "virus" ? rejected_virus_ : rejected_spam_)++;
      break;
    case Disposition::kTempfail:
      ++tempfailed_;
      break;
  }
}

void Pipeline::Report(const std::string& domain, const std::vector<PolicyInput>& inputs,
                      const Verdict& v) {
  auto& m = metrics::Global();
  m.AddCounter("spamweeder_filter_verdicts_total", "Scanned messages by domain and verdict",
               {{"domain", domain}, {"verdict", DispositionName(v.disposition)}})
      .Inc();
  for (const auto& in : inputs) {
    const FilterResult& r = in.result;
    m.AddHistogram("spamweeder_filter_scan_seconds", "Scan time per filter", kLatencyBounds,
                   {{"filter", r.filter}})
        .Observe(r.ms / 1000.0);
    if (r.ok()) continue;
    m.AddCounter("spamweeder_filter_failures_total", "Failed or timed-out scans per filter",
                 {{"filter", r.filter},
                  {"kind", r.outcome == FilterOutcome::kTimeout ? "timeout" : "error"}})
        .Inc();
    if (in.on_failure == config::OnFailure::kAccept)
      m.AddCounter("spamweeder_filter_fail_open_total",
                   "Messages passed unscanned by a filter (on_failure: accept)",
                   {{"filter", r.filter}})
          .Inc();
  }
}

PipelineStats Pipeline::stats() const {
  PipelineStats s;
  s.scanned = scanned_;
  s.accepted = accepted_;
  s.tagged = tagged_;
  s.rejected_spam = rejected_spam_;
  s.rejected_virus = rejected_virus_;
  s.tempfailed = tempfailed_;
  s.filter_failures = filter_failures_;
  s.fail_open = fail_open_;
  return s;
}

void LogScanned(const std::string& id, const std::string& domain, const Verdict& v) {
  auto line = log::Info("scanned");
  line.kv("id", id).kv("domain", domain).kv("verdict", DispositionName(v.disposition));
  line.kv("code", v.code);
  if (v.score) line.kv("score", FormatScore(*v.score));
  if (!v.action.empty()) line.kv("action", v.action);
  std::string symbols;
  size_t n = 0;
  for (const auto& s : v.symbols) {
    if (s.score <= 0) continue;
    if (n++ == kLogSymbols) break;
    symbols += (symbols.empty() ? "" : ",") + s.name + "(" + FormatScore(s.score) + ")";
  }
  if (!symbols.empty()) line.kv("symbols", symbols);
  if (!v.virus.empty()) line.kv("virus", v.virus);
  for (const auto& [filter, ms] : v.filter_ms)
    line.kv("ms_" + filter, static_cast<long long>(ms + 0.5));
  if (!v.unscanned.empty()) {
    std::string names;
    for (const auto& u : v.unscanned) names += (names.empty() ? "" : ",") + u;
    line.kv("unscanned", names);
  }
  if (!v.failures.empty()) {
    std::string all;
    for (const auto& f : v.failures) all += (all.empty() ? "" : "; ") + f;
    line.kv("failed", all);
  }
  if (!v.reason.empty()) line.kv("reason", v.reason);
}

}  // namespace sw::filters
