// Owns what every inbound SMTP session shares: current config, queue, TLS context, flags.
// Plain wiring; nothing here fails.
#pragma once

#include <memory>

#include "config/config.h"
#include "queue/relay_queue.h"

namespace sw::filters {
class Pipeline;
}
namespace sw::usage {
class UsageCounters;
}

namespace sw {
class ServerTls;
}  // namespace sw

namespace sw::gateway {

class DataBudget;
class DiskSpace;
class RecipientCallout;

struct GatewayContext {
  std::shared_ptr<const config::Config> config;  // swapped on reload; sessions keep theirs
  queue::RelayQueue* queue = nullptr;
  // STARTTLS contexts (null: STARTTLS not offered); swapped on reload, sessions keep theirs.
  std::shared_ptr<ServerTls> tls;
  DiskSpace* disk = nullptr;              // null: no free-space check
  DataBudget* data_budget = nullptr;      // null: DATA bytes in memory are not counted
  filters::Pipeline* filters = nullptr;   // null: no domain filtered at startup
  usage::UsageCounters* usage = nullptr;  // null: nothing counted (tests, `scan`)
  RecipientCallout* callout = nullptr;    // null: recipient_verification is not applied
  bool shutting_down = false;
};

}  // namespace sw::gateway
