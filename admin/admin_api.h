// Owns the admin API's behaviour (SPEC section 7): auth, routing, queue listing and actions,
// /healthz and /metrics. Fails by HTTP status with a JSON {"error": "..."} body, never throws.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "admin/alert_api.h"
#include "admin/domain_api.h"
#include "admin/http_message.h"
#include "admin/portal.h"
#include "admin/queue_metrics.h"
#include "admin/rate_limiter.h"
#include "admin/route.h"
#include "admin/tenant_api.h"
#include "common/metrics.h"
#include "config/config.h"
#include "control/control_plane.h"
#include "queue/relay_queue.h"

namespace sw::admin {

// Listing page sizes of GET /api/v1/queue.
inline constexpr size_t kDefaultListLimit = 100;
inline constexpr size_t kMaxListLimit = 1000;

// Runs on the relay queue's io_context thread. /healthz and /metrics are open (like a
// Prometheus scrape target); every /api call needs `Authorization: Bearer <admin.token>`:
// 401 without it or with a wrong one, 403 for everyone while admin.token is unset.
class AdminApi {
 public:
  // `config` is read per request (SIGHUP may swap it: a new token applies at once).
  // `control` (may be null: queue endpoints only) serves the provisioning endpoints and
  // authenticates `sw_` tokens; every endpoint is then scoped to the caller's subtree.
  AdminApi(queue::RelayQueue& queue, ConfigFn config, control::ControlPlane* control = nullptr,
           metrics::Registry& registry = metrics::Global());

  boost::asio::awaitable<HttpResponse> Handle(HttpRequest req);
  // POST /api/v1/customers/{id}/contacts/test hands the test alert to `fn` (the alert engine's
  // SendTest); until it is set that endpoint answers 503. Call before serving.
  void SetTestAlertHook(TestAlertFn fn);
  // GET /api/v1/cluster/nodes (the operator only; 404 for everyone else) answers what `fn`
  // returns (the node heartbeat's cached view, never a store read on this thread); unset
  // (embedded store): {"cluster": false, "nodes": []}. Call before serving.
  void SetClusterNodes(std::function<boost::json::object()> fn) { cluster_nodes_ = std::move(fn); }

 private:
  // The caller of an /api request, or the error reply (401, 403, 429).
  std::variant<control::Principal, HttpResponse> Authenticate(const HttpRequest& req);
  boost::asio::awaitable<HttpResponse> Dispatch(const control::Principal& p, const HttpRequest& req,
                                                const Route& r);
  // Whether `p` may see a queued message: a recipient domain in its subtree.
  bool SeesMessage(const control::Principal& p, const queue::Envelope& env) const;
  bool SeesQueuedDomain(const control::Principal& p, const std::string& domain) const;
  boost::asio::awaitable<HttpResponse> List(const control::Principal& p, const Route& r);
  HttpResponse Summary(const control::Principal& p);
  boost::asio::awaitable<HttpResponse> Show(const control::Principal& p, std::string id);
  boost::asio::awaitable<HttpResponse> ActOnMessage(const control::Principal& p, std::string id,
                                                    std::string action);
  boost::asio::awaitable<HttpResponse> ActOnDomain(const control::Principal& p, std::string domain,
                                                   std::string action);

  queue::RelayQueue& queue_;
  ConfigFn config_;
  control::ControlPlane* control_;
  std::optional<TenantApi> tenants_;
  std::optional<DomainApi> domains_;
  std::optional<AlertApi> alerts_;
  Portal portal_;
  RateLimiter limiter_{50, 200};
  metrics::Registry& registry_;
  std::vector<metrics::CallbackHandle> metric_handles_;
  std::function<boost::json::object()> cluster_nodes_;
};

// A JSON error response: {"error": message}.
HttpResponse ErrorResponse(unsigned status, std::string_view message);

}  // namespace sw::admin
