// Tests the pipeline with fake filters: concurrency, deadlines, cancellation of work on other
// threads, on_failure, exceptions, unfiltered domains and counters. Fails with an assertion.
#include "filters/pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "common/external_op.h"
#include "common/metrics.h"

namespace sw::filters {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Answers `result` after `delay` on the scanning executor (a timer; cancellable).
class TimerFilter : public Filter {
 public:
  TimerFilter(std::string name, std::chrono::milliseconds delay, FilterResult result,
              FilterSettings settings = {1000ms, config::OnFailure::kTempfail})
      : name_(std::move(name)), delay_(delay), result_(std::move(result)), settings_(settings) {}
  std::string_view name() const override { return name_; }
  FilterSettings Settings(const config::FiltersConfig&) const override { return settings_; }
  asio::awaitable<FilterResult> Scan(const ScanRequest&) override {
    ++calls;
    asio::steady_timer t(co_await asio::this_coro::executor, delay_);
    co_await t.async_wait(asio::use_awaitable);  // throws when cancelled: the loser's error
    co_return result_;
  }
  std::atomic<int> calls{0};

 private:
  std::string name_;
  std::chrono::milliseconds delay_;
  FilterResult result_;
  FilterSettings settings_;
};

// Works on its own thread and completes through AwaitExternal, like the real filters.
class ThreadFilter : public Filter {
 public:
  ThreadFilter(std::chrono::milliseconds work, FilterSettings settings)
      : work_(work), settings_(settings) {}
  ~ThreadFilter() override { Stop(); }
  std::string_view name() const override { return "threaded"; }
  FilterSettings Settings(const config::FiltersConfig&) const override { return settings_; }
  asio::awaitable<FilterResult> Scan(const ScanRequest&) override {
    auto start = [this](Completer<FilterResult> done) {
      worker_ = std::thread([this, done] {
        std::this_thread::sleep_for(work_);
        FilterResult r;
        r.filter = "threaded";
        done(r);
        finished = true;
      });
    };
    auto on_cancel = [this] { ++cancels; };
    FilterResult r = co_await AwaitExternal<FilterResult>(
        std::move(start), std::move(on_cancel),
        FilterResult::Failed("threaded", FilterOutcome::kTimeout, "cancelled"));
    co_return r;
  }
  void Stop() override {
    if (worker_.joinable()) worker_.join();
  }
  std::atomic<int> cancels{0};
  std::atomic<bool> finished{false};

 private:
  std::chrono::milliseconds work_;
  FilterSettings settings_;
  std::thread worker_;
};

class ThrowingFilter : public Filter {
 public:
  std::string_view name() const override { return "thrower"; }
  FilterSettings Settings(const config::FiltersConfig&) const override {
    return {1000ms, config::OnFailure::kTempfail};
  }
  asio::awaitable<FilterResult> Scan(const ScanRequest&) override {
    throw std::runtime_error("boom");
    co_return FilterResult{};
  }
};

FilterResult SpamResult(double score) {
  FilterResult r;
  r.filter = "rspamd";
  r.has_score = true;
  r.score = score;
  r.action = "no action";
  return r;
}

FilterResult CleanResult() {
  FilterResult r;
  r.filter = "clamav";
  return r;
}

config::DomainConfig FilteringDomain() {
  config::DomainConfig d;
  d.name = "example.com";
  d.filtering = true;
  return d;
}

ScanRequest Request() {
  ScanRequest r;
  r.id = "0123456789ABCDEF";
  r.body = std::make_shared<std::string>("Subject: x\r\n\r\nbody\r\n");
  r.config = std::make_shared<config::Config>();
  return r;
}

// Runs one scan to completion on a fresh io_context; returns the verdict and wall time.
std::pair<Verdict, std::chrono::milliseconds> RunScan(Pipeline& p, const config::DomainConfig& d) {
  asio::io_context io;
  Verdict out;
  ScanRequest req = Request();
  auto start = Clock::now();
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out = co_await p.Scan(req, d); },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  return {out, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)};
}

TEST(Pipeline, RunsFiltersConcurrently) {
  std::vector<std::unique_ptr<Filter>> f;
  f.push_back(std::make_unique<TimerFilter>("rspamd", 300ms, SpamResult(1)));
  f.push_back(std::make_unique<TimerFilter>("clamav", 300ms, CleanResult()));
  Pipeline p(std::move(f));
  auto [v, took] = RunScan(p, FilteringDomain());
  EXPECT_EQ(v.disposition, Disposition::kAccept);
  EXPECT_TRUE(v.scanned);
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 550ms) << "filters ran one after the other";
  ASSERT_EQ(v.filter_ms.size(), 2u);
  EXPECT_EQ(v.filter_ms[0].first, "rspamd");
  EXPECT_GE(v.filter_ms[0].second, 290);
  EXPECT_EQ(v.score, 1);
  EXPECT_EQ(p.stats().scanned, 1u);
  EXPECT_EQ(p.stats().accepted, 1u);
}

TEST(Pipeline, DeadlineBecomesATimeoutUnderOnFailure) {
  std::vector<std::unique_ptr<Filter>> f;
  f.push_back(std::make_unique<TimerFilter>("rspamd", 10s, SpamResult(1),
                                            FilterSettings{200ms, config::OnFailure::kTempfail}));
  f.push_back(std::make_unique<TimerFilter>("clamav", 10ms, CleanResult()));
  Pipeline p(std::move(f));
  auto [v, took] = RunScan(p, FilteringDomain());
  EXPECT_EQ(v.Reply(), "451 4.7.1 Message could not be scanned, try again later");
  EXPECT_LT(took, 1s);
  ASSERT_EQ(v.failures.size(), 1u);
  EXPECT_EQ(v.failures[0], "rspamd: no answer within 200 ms");
  EXPECT_EQ(p.stats().tempfailed, 1u);
  EXPECT_EQ(p.stats().filter_failures, 1u);
}

TEST(Pipeline, DeadlineUnderAcceptPassesWithMark) {
  std::vector<std::unique_ptr<Filter>> f;
  f.push_back(std::make_unique<TimerFilter>("rspamd", 10s, SpamResult(1),
                                            FilterSettings{100ms, config::OnFailure::kAccept}));
  f.push_back(std::make_unique<TimerFilter>("clamav", 10ms, CleanResult()));
  Pipeline p(std::move(f));
  auto [v, took] = RunScan(p, FilteringDomain());
  EXPECT_EQ(v.disposition, Disposition::kAccept);
  EXPECT_EQ(v.unscanned, (std::vector<std::string>{"rspamd"}));
  EXPECT_EQ(p.stats().fail_open, 1u);
}

TEST(Pipeline, WorkOnAnotherThreadIsAbandonedAtTheDeadline) {
  auto* raw = new ThreadFilter(1500ms, {100ms, config::OnFailure::kTempfail});
  std::vector<std::unique_ptr<Filter>> f;
  f.emplace_back(raw);
  Pipeline p(std::move(f));
  auto [v, took] = RunScan(p, FilteringDomain());
  EXPECT_EQ(v.code, 451);
  EXPECT_LT(took, 1000ms);
  EXPECT_EQ(raw->cancels, 1);
  EXPECT_FALSE(raw->finished);
  p.Stop();  // joins the worker; its late result goes nowhere
  EXPECT_TRUE(raw->finished);
}

TEST(Pipeline, WorkOnAnotherThreadCompletesOnTheCallersExecutor) {
  auto* raw = new ThreadFilter(50ms, {2000ms, config::OnFailure::kTempfail});
  std::vector<std::unique_ptr<Filter>> f;
  f.emplace_back(raw);
  Pipeline p(std::move(f));
  auto [v, took] = RunScan(p, FilteringDomain());
  EXPECT_EQ(v.disposition, Disposition::kAccept);
  EXPECT_EQ(raw->cancels, 0);
  EXPECT_TRUE(v.failures.empty());
}

TEST(Pipeline, AThrowingFilterIsAFailure) {
  std::vector<std::unique_ptr<Filter>> f;
  f.push_back(std::make_unique<ThrowingFilter>());
  f.push_back(std::make_unique<TimerFilter>("clamav", 10ms, CleanResult()));
  Pipeline p(std::move(f));
  auto [v, took] = RunScan(p, FilteringDomain());
  EXPECT_EQ(v.code, 451);
  ASSERT_EQ(v.failures.size(), 1u);
  EXPECT_EQ(v.failures[0], "thrower: internal error: boom");
}

TEST(Pipeline, UnfilteredDomainIsNotScanned) {
  auto* raw = new TimerFilter("rspamd", 10ms, SpamResult(100));
  std::vector<std::unique_ptr<Filter>> f;
  f.emplace_back(raw);
  Pipeline p(std::move(f));
  config::DomainConfig d = FilteringDomain();
  d.filtering = false;
  auto [v, took] = RunScan(p, d);
  EXPECT_FALSE(v.scanned);
  EXPECT_EQ(v.disposition, Disposition::kAccept);
  EXPECT_EQ(raw->calls, 0);
  EXPECT_EQ(p.stats().scanned, 0u);
}

TEST(Pipeline, CountsVerdicts) {
  std::vector<std::unique_ptr<Filter>> f;
  FilterResult virus = CleanResult();
  virus.virus = "Eicar-Test-Signature";
  f.push_back(std::make_unique<TimerFilter>("rspamd", 1ms, SpamResult(20)));
  f.push_back(std::make_unique<TimerFilter>("clamav", 1ms, virus));
  Pipeline p(std::move(f));
  auto [v, took] = RunScan(p, FilteringDomain());
  EXPECT_EQ(v.code, 554);
  EXPECT_EQ(p.stats().rejected_virus, 1u);
  EXPECT_EQ(p.stats().rejected_spam, 0u);
}

TEST(Pipeline, ReportsMetrics) {
  std::vector<std::unique_ptr<Filter>> f;
  f.push_back(std::make_unique<TimerFilter>("rspamd", 10s, SpamResult(1),
                                            FilterSettings{50ms, config::OnFailure::kAccept}));
  f.push_back(std::make_unique<TimerFilter>("clamav", 1ms, CleanResult()));
  Pipeline p(std::move(f));
  config::DomainConfig d = FilteringDomain();
  d.name = "metrics.test";
  RunScan(p, d);
  std::string text = metrics::Global().Render();
  EXPECT_NE(
      text.find("spamweeder_filter_verdicts_total{domain=\"metrics.test\",verdict=\"accept\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("spamweeder_filter_failures_total{filter=\"rspamd\",kind=\"timeout\"}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("spamweeder_filter_fail_open_total{filter=\"rspamd\"}"), std::string::npos)
      << text;
  EXPECT_NE(text.find("spamweeder_filter_scan_seconds_bucket{filter=\"clamav\""), std::string::npos)
      << text;
}

}  // namespace
}  // namespace sw::filters
