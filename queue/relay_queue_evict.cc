// Owns the eviction of idle external domains (DSN targets, routed by MX or outbound_relay): one
// with nothing queued or in flight for delivery.mx_idle_timeout leaves the relay queue together
// with its destination (connections closed); the next message recreates it. Fails never.
#include <algorithm>
#include <vector>

#include "common/log.h"
#include "queue/relay_queue.h"

namespace sw::queue {

RelayQueue::DomainState* RelayQueue::Existing(const std::string& name) {
  auto it = domains_.find(name);
  return it == domains_.end() ? nullptr : &it->second;
}

// Checks a few times per timeout (at most once a minute): a domain goes between one and
// 1.25 timeouts after its last activity.
void RelayQueue::ArmEvict() {
  if (stopped_) return;
  auto every = std::clamp<int64_t>(config_->delivery.mx_idle_timeout.count() / 4, 50, 60000);
  evict_.expires_after(std::chrono::milliseconds(every));
  evict_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    EvictIdle();
    ArmEvict();
  });
}

void RelayQueue::EvictIdle() {
  const int64_t now = NowMs();
  const int64_t timeout = config_->delivery.mx_idle_timeout.count();
  std::vector<std::string> idle;
  for (const auto& [name, d] : domains_)
    if (d.external && d.ready.empty() && d.inflight.empty() && d.active == 0 && !d.on_disk &&
        !d.refilling && !d.bulk && now - d.idle_since_ms >= timeout)
      idle.push_back(name);
  for (const auto& name : idle) {
    auto it = domains_.find(name);
    DomainState& d = it->second;
    ++d.probe_gen;  // a probe loop of a down domain ends at its next step
    if (d.probe_timer) d.probe_timer->cancel();
    // A probe in flight holds its own reference: the destination goes when it returns.
    if (d.dest) d.dest->Close();
    log::Info("domain_evicted")
        .kv("domain", name)
        .kv("idle_ms", now - d.idle_since_ms)
        .kv("was_up", d.up)
        .kv("domains", domains_.size() - 1);
    domains_.erase(it);
  }
}

}  // namespace sw::queue
