// Owns the provisioning endpoints for domains: list/search, create (one or a batch of up to
// 1,000), get, PATCH with versions, delete (mail drains), status. Fails by HTTP status + JSON.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <optional>
#include <set>

#include "admin/http_message.h"
#include "admin/route.h"
#include "control/control_plane.h"
#include "queue/relay_queue.h"

namespace sw::admin {

inline constexpr size_t kMaxBatch = 1000;

class DomainApi {
 public:
  DomainApi(control::ControlPlane& control, queue::RelayQueue& queue)
      : control_(control), queue_(queue) {}
  ~DomainApi();
  // kDomains, kDomainsBatch, kDomain, kDomainStatus.
  HttpResponse Handle(const control::Principal& p, const HttpRequest& req, const Route& r);
  // kDomainVerify: looks up _spamweeder.<domain> TXT (off the event loop), activates the
  // domain when it holds the code.
  boost::asio::awaitable<HttpResponse> Verify(control::Principal p, HttpRequest req, Route r);

 private:
  HttpResponse List(const control::Principal& p, const Route& r);
  HttpResponse Create(const control::Principal& p, const HttpRequest& req);
  HttpResponse Batch(const control::Principal& p, const HttpRequest& req);
  HttpResponse Patch(const control::Principal& p, const HttpRequest& req,
                     const control::DomainRecord& d);
  HttpResponse Delete(const control::Principal& p, const HttpRequest& req,
                      const control::DomainRecord& d);
  // Queue state, the status history and the latest alerts (those `p` sees).
  HttpResponse Status(const control::Principal& p, const control::DomainRecord& d);
  // Validates one create item; on success fills `out`. `taken` holds names created earlier
  // in the same batch; `added` counts them per reseller (plan limits).
  std::optional<HttpResponse> Prepare(const control::Principal& p, boost::json::object item,
                                      const std::set<std::string>& taken,
                                      std::map<std::string, uint64_t>& added,
                                      control::DomainRecord* out);

  control::ControlPlane& control_;
  queue::RelayQueue& queue_;
  boost::asio::thread_pool dns_pool_{1};  // blocking resolver calls
};

}  // namespace sw::admin
