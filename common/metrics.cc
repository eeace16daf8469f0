// Owns the metrics registry: counters, callback gauges, histograms; renders Prometheus text.
// Cannot fail at run time: increments are lock-free atomics, unknown labels fold into "other".
#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace sw::metrics {

namespace {

const char* TypeName(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// `{a="x",b="y"}` with `extra` appended last (for `le`); empty when there are no labels.
std::string LabelText(const Labels& labels, const std::pair<std::string, std::string>* extra) {
  if (labels.empty() && !extra) return "";
  std::string out = "{";
  bool first = true;
  auto add = [&](const std::string& k, const std::string& v) {
    if (!first) out.push_back(',');
    first = false;
    out += k + "=\"" + EscapeLabelValue(v) + "\"";
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (extra) add(extra->first, extra->second);
  return out + "}";
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double cur = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

std::vector<uint64_t> Histogram::counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

CallbackHandle& CallbackHandle::operator=(CallbackHandle&& o) noexcept {
  if (this != &o) {
    Reset();
    registry_ = std::exchange(o.registry_, nullptr);
    id_ = std::exchange(o.id_, 0);
  }
  return *this;
}

void CallbackHandle::Reset() {
  if (registry_) registry_->RemoveCallback(id_);
  registry_ = nullptr;
  id_ = 0;
}

Registry::~Registry() = default;

Registry::Family& Registry::FamilyFor(const std::string& name, const std::string& help, Type type) {
  for (auto& f : families_)
    if (f->name == name) return *f;
  families_.push_back(std::make_unique<Family>());
  Family& f = *families_.back();
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help, Labels labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = FamilyFor(name, help, Type::kCounter);
  for (auto& s : f.series)
    if (s.labels == labels && s.counter) return *s.counter;
  f.series.push_back({std::move(labels), std::make_unique<Counter>(), nullptr});
  return *f.series.back().counter;
}

Histogram& Registry::AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<double> bounds, Labels labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = FamilyFor(name, help, Type::kHistogram);
  for (auto& s : f.series)
    if (s.labels == labels && s.histogram) return *s.histogram;
  f.series.push_back({std::move(labels), nullptr, std::make_unique<Histogram>(std::move(bounds))});
  return *f.series.back().histogram;
}

CallbackHandle Registry::AddCallback(const std::string& name, const std::string& help, Type type,
                                     SampleFn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = FamilyFor(name, help, type);
  uint64_t id = next_callback_++;
  f.callbacks.push_back({id, std::move(fn)});
  return CallbackHandle(this, id);
}

void Registry::RemoveCallback(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& f : families_)
    std::erase_if(f->callbacks, [id](const Callback& c) { return c.id == id; });
}

std::string Registry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& fp : families_) {
    const Family& f = *fp;
    if (f.series.empty() && f.callbacks.empty()) continue;
    out += "# HELP " + f.name + " " + EscapeHelp(f.help) + "\n";
    out += "# TYPE " + f.name + " " + TypeName(f.type) + "\n";
    for (const auto& s : f.series) {
      if (s.counter) {
        out +=
            f.name + LabelText(s.labels, nullptr) + " " + std::to_string(s.counter->value()) + "\n";
      } else if (s.histogram) {
        const Histogram& h = *s.histogram;
        auto counts = h.counts();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          std::pair<std::string, std::string> le{
              "le", i < h.bounds().size() ? FormatValue(h.bounds()[i]) : "+Inf"};
          out += f.name + "_bucket" + LabelText(s.labels, &le) + " " + std::to_string(cumulative) +
                 "\n";
        }
        out += f.name + "_sum" + LabelText(s.labels, nullptr) + " " + FormatValue(h.sum()) + "\n";
        // Buckets and count are read separately: report the bucket total so they agree.
        out += f.name + "_count" + LabelText(s.labels, nullptr) + " " + std::to_string(cumulative) +
               "\n";
      }
    }
    for (const auto& cb : f.callbacks) {
      for (const auto& sample : cb.fn())
        out += f.name + LabelText(sample.labels, nullptr) + " " + FormatValue(sample.value) + "\n";
    }
  }
  return out;
}

Registry& Global() {
  static Registry* registry = new Registry();  // never destroyed: used until exit
  return *registry;
}

Counter& RejectedCounter(std::string_view reason) {
  // One counter per known reason, resolved once; lookups after that are a short scan.
  static Counter* const* table = [] {
    static Counter* t[std::size(kRejectReasons)];
    for (size_t i = 0; i < std::size(kRejectReasons); ++i)
      t[i] = &Global().AddCounter("spamweeder_rejected_total",
                                  "SMTP transactions or recipients rejected, by reason",
                                  {{"reason", std::string(kRejectReasons[i])}});
    return t;
  }();
  for (size_t i = 0; i < std::size(kRejectReasons); ++i)
    if (kRejectReasons[i] == reason) return *table[i];
  return *table[std::size(kRejectReasons) - 1];
}

Histogram& DeliveryLatency() {
  static Histogram& h = Global().AddHistogram(
      "spamweeder_delivery_latency_seconds", "Time from arrival to delivery, per recipient",
      {0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 86400, 7 * 86400, 30 * 86400});
  return h;
}

void Rejected(std::string_view reason) { RejectedCounter(reason).Inc(); }

void RegisterWellKnown() {
  RejectedCounter("other");
  DeliveryLatency();
}

}  // namespace sw::metrics
