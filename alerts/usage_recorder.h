// Owns usage in the store (SPEC section 11): hourly counters per domain per node
// ("u/<domain>/<YYYYMMDDHH>/<node>"), the daily census of active and filtering domains per
// reseller for billing ("k/<YYYYMMDD>/<reseller>"), and their retention. Fails by logging:
// a failed flush keeps its counts for the next one.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "common/usage_counters.h"
#include "config/config.h"
#include "control/control_store.h"
#include "control/records.h"

namespace sw::alerts {

std::string UsageKey(const std::string& domain, const std::string& hour, const std::string& node);
std::string CensusKey(const std::string& day, const std::string& reseller);

class UsageRecorder {
 public:
  UsageRecorder(control::ControlStore& store, std::string node);
  // Adds `counts` (plus anything a failed flush kept) to the stored rows, updates today's
  // census, and once a day drops rows (and alert events, closed status periods) older than
  // usage.retention_days.
  void Flush(std::map<std::pair<std::string, std::string>, usage::Counts> counts,
             const config::Config& config, const control::TenantSnapshot& tenants, int64_t now_ms);

 private:
  void Census(const config::Config& config, const control::TenantSnapshot& tenants, int64_t now_ms);
  void Prune(uint32_t retention_days, int64_t now_ms);

  control::ControlStore& store_;
  std::string node_;
  std::map<std::pair<std::string, std::string>, usage::Counts> carry_;
  std::string pruned_day_;
};

}  // namespace sw::alerts
