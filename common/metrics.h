// Owns the metrics registry: counters, callback gauges, histograms; renders Prometheus text.
// Cannot fail at run time: increments are lock-free atomics, unknown labels fold into "other".
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sw::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Fixed upper bounds (ascending, +Inf implied); Observe is lock-free.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count per bucket; the last one is the +Inf bucket.
  std::vector<uint64_t> counts() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

enum class Type { kCounter, kGauge, kHistogram };

// One series of a callback metric.
struct Sample {
  Labels labels;
  double value = 0;
};
using SampleFn = std::function<std::vector<Sample>()>;

class Registry;

// Unregisters its callback when destroyed (or reset); the registry must outlive it.
class CallbackHandle {
 public:
  CallbackHandle() = default;
  CallbackHandle(Registry* r, uint64_t id) : registry_(r), id_(id) {}
  CallbackHandle(CallbackHandle&& o) noexcept { *this = std::move(o); }
  CallbackHandle& operator=(CallbackHandle&& o) noexcept;
  ~CallbackHandle() { Reset(); }
  void Reset();

 private:
  Registry* registry_ = nullptr;
  uint64_t id_ = 0;
};

class Registry {
 public:
  Registry() = default;
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // A counter series; the same name with other labels joins the same family. Registering the
  // same name and labels twice returns the same counter. References stay valid for the
  // registry's lifetime.
  Counter& AddCounter(const std::string& name, const std::string& help, Labels labels = {});
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> bounds, Labels labels = {});
  // Series computed at every Render() (gauges, or counters kept elsewhere). `fn` runs on the
  // rendering thread: the caller makes that safe (the admin server renders on the data plane).
  [[nodiscard]] CallbackHandle AddCallback(const std::string& name, const std::string& help,
                                           Type type, SampleFn fn);

  // Prometheus text exposition format 0.0.4, families in registration order.
  std::string Render() const;

 private:
  friend class CallbackHandle;
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Histogram> histogram;
  };
  struct Callback {
    uint64_t id;
    SampleFn fn;
  };
  struct Family {
    std::string name, help;
    Type type;
    std::vector<Series> series;
    std::vector<Callback> callbacks;
  };
  Family& FamilyFor(const std::string& name, const std::string& help, Type type);
  void RemoveCallback(uint64_t id);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
  uint64_t next_callback_ = 1;
};

// The process-wide registry the data plane reports to.
Registry& Global();

// --- SpamWeeder's well-known metrics (registered in Global() on first use).
// The reasons SMTP rejections are counted under; anything else counts as "other".
inline constexpr std::string_view kRejectReasons[] = {"relay_denied",
                                                      "unknown_recipient",
                                                      "too_many_recipients",
                                                      "message_size",
                                                      "non_ascii",
                                                      "mail_loop",
                                                      "too_many_errors",
                                                      "too_many_connections",
                                                      "disk_space",
                                                      "queue_error",
                                                      "timeout",
                                                      "spam",
                                                      "virus",
                                                      "filter_failure",
                                                      "invalid_helo",
                                                      "other"};
// Counts one rejection in spamweeder_rejected_total{reason}.
void Rejected(std::string_view reason);
// The counter behind Rejected(reason) (tests, dashboards).
Counter& RejectedCounter(std::string_view reason);
// spamweeder_delivery_latency_seconds: arrival to delivery of each recipient.
Histogram& DeliveryLatency();
// Registers every well-known metric so they render (as 0) before the first event.
void RegisterWellKnown();

// Prometheus label-value escaping (backslash, double quote, newline).
std::string EscapeLabelValue(std::string_view v);
// Shortest round-trip decimal, or +Inf/-Inf/NaN.
std::string FormatValue(double v);

}  // namespace sw::metrics
