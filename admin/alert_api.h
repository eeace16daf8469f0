// Owns the monitoring endpoints (SPEC section 11): alert history, usage per domain per day (JSON,
// CSV), test alerts, status history. Fails by HTTP status + JSON {"error", "field"}; never throws.
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "admin/http_message.h"
#include "admin/queue_metrics.h"
#include "admin/route.h"
#include "control/control_plane.h"

namespace sw::admin {

// Makes a `test` alert event for the customer's contacts (one contact when given) and answers
// its event ID ("" when it could not be made). Set by the daemon once the alert engine runs.
using TestAlertFn =
    std::function<std::string(const std::string& customer, std::optional<size_t> contact)>;

inline constexpr size_t kStatusHistoryLimit = 50;   // periods in GET .../status
inline constexpr size_t kStatusAlertsLimit = 20;    // events in GET .../status
inline constexpr int64_t kMaxUsageDays = 400;       // days in one usage query
inline constexpr int64_t kMaxHourlyUsageDays = 31;  // days in one granularity=hour query
inline constexpr size_t kMaxUsageDomainList = 200;  // names in one `domains=` usage query

class AlertApi {
 public:
  AlertApi(control::ControlPlane& control, ConfigFn config)
      : control_(control), config_(std::move(config)) {}
  void SetTestHook(TestAlertFn fn) { send_test_ = std::move(fn); }
  // kAlerts, kUsage, kContactsTest.
  HttpResponse Handle(const control::Principal& p, const HttpRequest& req, const Route& r);

 private:
  HttpResponse Alerts(const control::Principal& p, const Route& r);
  HttpResponse Usage(const control::Principal& p, const Route& r);
  HttpResponse TestContacts(const control::Principal& p, const HttpRequest& req, const Route& r);

  control::ControlPlane& control_;
  ConfigFn config_;
  TestAlertFn send_test_;
};

// Whether `p` sees a stored alert event or usage row: the operator all, a reseller those whose
// `reseller` is itself, a customer those whose `customer` is itself.
bool SeesRecord(const control::Principal& p, const boost::json::object& record);

// The newest `limit` events of `domain` ("a/<domain>/...") that `p` sees, newest first, as
// stored. Empty on a store error (logged).
boost::json::array RecentAlerts(control::ControlStore& store, const control::Principal& p,
                                const std::string& domain, size_t limit);

// The newest `limit` status periods of `domain` ("h/<domain>/<from>"), newest first, as stored.
boost::json::array StatusHistory(control::ControlStore& store, const std::string& domain,
                                 size_t limit);

// One CSV field per RFC 4180: quoted (quotes doubled) when it holds , " CR or LF.
std::string CsvField(std::string_view s);

}  // namespace sw::admin
