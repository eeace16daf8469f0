// Owns the relay queue's series in /metrics: event counters from RelayQueue::stats() and the
// per-domain depth, oldest age and up/down gauges. Cannot fail; series vanish with the handles.
#include "admin/queue_metrics.h"

#include <map>

namespace sw::admin {

namespace {

using metrics::Sample;
using metrics::Type;

// Summary() merged with the configured domains (which may have no queued mail).
std::map<std::string, queue::DomainSummary> Domains(const queue::RelayQueue& q,
                                                    const ConfigFn& config) {
  std::map<std::string, queue::DomainSummary> out;
  if (config)
    if (auto cfg = config())
      for (const auto& [name, d] : cfg->domains)  // provisioned ones only with activity:
        if (d.source == config::DomainSource::kConfig) out[name].domain = name;  // bounded
  for (auto& s : q.Summary()) out[s.domain] = s;
  return out;
}

}  // namespace

std::vector<metrics::CallbackHandle> RegisterQueueMetrics(metrics::Registry& r,
                                                          const queue::RelayQueue& q,
                                                          ConfigFn config) {
  std::vector<metrics::CallbackHandle> h;
  auto stat = [&](const char* name, const char* help, uint64_t queue::RelayStats::*field) {
    h.push_back(r.AddCallback(name, help, Type::kCounter, [&q, field]() {
      return std::vector<Sample>{{{}, static_cast<double>(q.stats().*field)}};
    }));
  };
  stat("spamweeder_accepted_total", "Messages accepted into the queue",
       &queue::RelayStats::accepted);
  stat("spamweeder_delivered_total", "Recipients delivered", &queue::RelayStats::delivered);
  stat("spamweeder_deferred_total", "Delivery attempts deferred (temporary failure)",
       &queue::RelayStats::deferred);
  stat("spamweeder_bounced_total", "Recipients bounced (permanent failure or operator)",
       &queue::RelayStats::bounced);
  stat("spamweeder_expired_total", "Messages expired after queue.max_age",
       &queue::RelayStats::expired);

  h.push_back(r.AddCallback(
      "spamweeder_queue_active_messages",
      "Envelopes in memory now (queue.active_limit bounds them; deferred mail waits on disk)",
      Type::kGauge, [&q]() {
        return std::vector<Sample>{{{}, static_cast<double>(q.active())}};
      }));
  h.push_back(r.AddCallback(
      "spamweeder_queue_messages", "Queued messages per domain", Type::kGauge, [&q, config]() {
        std::vector<Sample> out;
        for (const auto& [name, s] : Domains(q, config))
          out.push_back({{{"domain", name}}, static_cast<double>(s.messages)});
        return out;
      }));
  h.push_back(r.AddCallback(
      "spamweeder_queue_oldest_seconds", "Age of the oldest queued message per domain (0: none)",
      Type::kGauge, [&q, config]() {
        std::vector<Sample> out;
        int64_t now = queue::NowMs();
        for (const auto& [name, s] : Domains(q, config)) {
          double age = s.oldest_arrival_ms > 0 && now > s.oldest_arrival_ms
                           ? static_cast<double>(now - s.oldest_arrival_ms) / 1000.0
                           : 0.0;
          out.push_back({{{"domain", name}}, age});
        }
        return out;
      }));
  h.push_back(r.AddCallback("spamweeder_domain_up",
                            "1 while the domain's destinations answer, 0 while it is down",
                            Type::kGauge, [&q, config]() {
                              std::vector<Sample> out;
                              for (const auto& [name, s] : Domains(q, config))
                                out.push_back({{{"domain", name}}, s.up ? 1.0 : 0.0});
                              return out;
                            }));
  return h;
}

}  // namespace sw::admin
