// Owns the relay queue's series in /metrics: event counters from RelayQueue::stats() and the
// per-domain depth, oldest age and up/down gauges. Cannot fail; series vanish with the handles.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "common/metrics.h"
#include "config/config.h"
#include "queue/relay_queue.h"

namespace sw::admin {

using ConfigFn = std::function<std::shared_ptr<const config::Config>()>;

// Registers spamweeder_{accepted,delivered,deferred,bounced,expired}_total and
// spamweeder_queue_messages / spamweeder_queue_oldest_seconds / spamweeder_domain_up
// {domain} and spamweeder_queue_active_messages (envelopes in memory). Configured domains without
// queued mail report 0 messages. The callbacks read `queue` and must run on its thread; they stay
// registered while the handles live.
std::vector<metrics::CallbackHandle> RegisterQueueMetrics(metrics::Registry& registry,
                                                          const queue::RelayQueue& queue,
                                                          ConfigFn config);

}  // namespace sw::admin
