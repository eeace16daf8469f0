// Owns the usage rows' read-add-write (one writer per row: rows are per node), the census
// and the retention sweep. Fails by logging; counts of a failed write are carried over.
#include "alerts/usage_recorder.h"

#include <boost/json.hpp>

#include "alerts/alert_event.h"
#include "common/json_text.h"
#include "common/log.h"

namespace sw::alerts {

namespace json = boost::json;

namespace {

uint64_t U(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v) return 0;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64() && v->as_int64() > 0) return static_cast<uint64_t>(v->as_int64());
  return 0;
}

std::string ResellerOf(const std::string& customer, const control::TenantSnapshot& t) {
  auto it = t.customers.find(customer);
  return it == t.customers.end() ? std::string() : it->second.reseller;
}

}  // namespace

std::string UsageKey(const std::string& domain, const std::string& hour, const std::string& node) {
  return "u/" + domain + "/" + hour + "/" + node;
}

std::string CensusKey(const std::string& day, const std::string& reseller) {
  return "k/" + day + "/" + (reseller.empty() ? std::string("-") : reseller);
}

UsageRecorder::UsageRecorder(control::ControlStore& store, std::string node)
    : store_(store), node_(std::move(node)) {}

void UsageRecorder::Flush(std::map<std::pair<std::string, std::string>, usage::Counts> counts,
                          const config::Config& config, const control::TenantSnapshot& tenants,
                          int64_t now_ms) {
  for (auto& [k, c] : carry_) counts[k] += c;
  carry_.clear();
  std::vector<control::RecordPut> puts;
  for (const auto& [k, c] : counts) {
    const auto& [domain, hour] = k;
    std::string key = UsageKey(domain, hour, node_), text;
    usage::Counts total = c;
    if (store_.Get(key, &text).ok()) {
      boost::system::error_code ec;
      json::value v = json::parse(text, ec);
      if (!ec && v.is_object()) {
        const auto& o = v.as_object();
        total += usage::Counts{U(o, "accepted"),      U(o, "delivered"),      U(o, "deferred"),
                               U(o, "rejected_spam"), U(o, "rejected_virus"), U(o, "bytes")};
      }
    }
    auto dc = config.domains.find(domain);
    std::string customer = dc == config.domains.end() ? "" : dc->second.customer;
    json::object row{{"domain", domain},
                     {"hour", hour},
                     {"node", node_},
                     {"customer", customer},
                     {"reseller", ResellerOf(customer, tenants)},
                     {"accepted", total.accepted},
                     {"delivered", total.delivered},
                     {"deferred", total.deferred},
                     {"rejected_spam", total.rejected_spam},
                     {"rejected_virus", total.rejected_virus},
                     {"bytes", total.bytes},
                     {"filtering", dc != config.domains.end() && dc->second.filtering}};
    puts.push_back({key, json_text::Serialize(row)});
  }
  if (!puts.empty()) {
    Status st = store_.PutUnsynced(puts);
    if (!st.ok()) {
      log::Error("usage_flush_failed").kv("rows", puts.size()).kv("detail", st.message());
      carry_ = std::move(counts);
      return;
    }
  }
  Census(config, tenants, now_ms);
  Prune(config.usage.retention_days, now_ms);
}

// Active and filtering domains per reseller today: the day's maximum, for domain-days.
void UsageRecorder::Census(const config::Config& config, const control::TenantSnapshot& tenants,
                           int64_t now_ms) {
  std::string day = usage::HourOf(now_ms).substr(0, 8);
  std::map<std::string, std::pair<uint64_t, uint64_t>> per;  // reseller -> (active, filtering)
  for (const auto& [name, d] : config.domains) {
    if (d.state != config::DomainState::kActive) continue;
    auto& p = per[d.customer.empty() ? std::string() : ResellerOf(d.customer, tenants)];
    ++p.first;
    if (d.filtering) ++p.second;
  }
  std::vector<control::RecordPut> puts;
  for (const auto& [reseller, p] : per) {
    std::string key = CensusKey(day, reseller), text;
    uint64_t active = p.first, filtering = p.second;
    if (store_.Get(key, &text).ok()) {
      boost::system::error_code ec;
      json::value v = json::parse(text, ec);
      if (!ec && v.is_object()) {
        active = std::max(active, U(v.as_object(), "active"));
        filtering = std::max(filtering, U(v.as_object(), "filtering"));
        if (active == U(v.as_object(), "active") && filtering == U(v.as_object(), "filtering"))
          continue;  // unchanged
      }
    }
    puts.push_back(
        {key,
         json_text::Serialize(json::object{
             {"day", day}, {"reseller", reseller}, {"active", active}, {"filtering", filtering}})});
  }
  if (!puts.empty()) {
    Status st = store_.PutUnsynced(puts);
    if (!st.ok()) log::Error("usage_census_failed").kv("detail", st.message());
  }
}

void UsageRecorder::Prune(uint32_t retention_days, int64_t now_ms) {
  std::string day = usage::HourOf(now_ms).substr(0, 8);
  if (day == pruned_day_) return;
  pruned_day_ = day;
  std::string cutoff = usage::HourOf(now_ms - int64_t{retention_days} * 86400000);
  control::ChangeSet cs;
  Status st = store_.ScanPrefix("u/", [&](const std::string& key, const std::string&) {
    // u/<domain>/<hour>/<node>
    size_t b = key.find('/', 2);
    if (b != std::string::npos && key.compare(b + 1, 10, cutoff) < 0) cs.deletes.push_back(key);
    return true;
  });
  if (st.ok())
    st = store_.ScanPrefix("k/", [&](const std::string& key, const std::string&) {
      if (key.compare(2, 8, cutoff.substr(0, 8)) < 0) cs.deletes.push_back(key);
      return true;
    });
  // Alert events and closed status periods age out with the usage rows.
  int64_t cutoff_ms = now_ms - int64_t{retention_days} * 86400000;
  if (st.ok())
    st = store_.ScanPrefix("a/", [&](const std::string& key, const std::string& text) {
      AlertEvent e;
      if (ParseEvent(text, &e) && e.at_ms < cutoff_ms) cs.deletes.push_back(key);
      return true;
    });
  if (st.ok())
    st = store_.ScanPrefix("h/", [&](const std::string& key, const std::string& text) {
      StatusPeriod p;
      if (ParsePeriod(text, &p) && p.until_ms != 0 && p.until_ms < cutoff_ms)
        cs.deletes.push_back(key);
      return true;
    });
  if (st.ok() && !cs.empty()) st = store_.Commit(cs);
  if (!st.ok())
    log::Error("usage_prune_failed").kv("detail", st.message());
  else if (!cs.empty())
    log::Info("usage_pruned").kv("rows", cs.deletes.size());
}

}  // namespace sw::alerts
