// Owns the admin API's behaviour (SPEC section 7): auth, routing, queue listing and actions,
// /healthz and /metrics. Fails by HTTP status with a JSON {"error": "..."} body, never throws.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "admin/http_message.h"
#include "admin/queue_metrics.h"
#include "admin/route.h"
#include "common/metrics.h"
#include "config/config.h"
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
  AdminApi(queue::RelayQueue& queue, ConfigFn config,
           metrics::Registry& registry = metrics::Global());

  boost::asio::awaitable<HttpResponse> Handle(HttpRequest req);

 private:
  HttpResponse List(const Route& r);
  HttpResponse Summary();
  boost::asio::awaitable<HttpResponse> Show(std::string id);
  boost::asio::awaitable<HttpResponse> ActOnMessage(std::string id, std::string action);
  boost::asio::awaitable<HttpResponse> ActOnDomain(std::string domain, std::string action);

  queue::RelayQueue& queue_;
  ConfigFn config_;
  metrics::Registry& registry_;
  std::vector<metrics::CallbackHandle> metric_handles_;
};

// A JSON error response: {"error": message}.
HttpResponse ErrorResponse(unsigned status, std::string_view message);

}  // namespace sw::admin
