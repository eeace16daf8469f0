// Owns the admin API's URL map: request targets to endpoints with their IDs and query.
// Fails by value: a target that matches no endpoint is kUnknown; bad %-escapes are an error.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sw::admin {

enum class Endpoint {
  kUnknown,
  kHealthz,        // GET /healthz
  kMetrics,        // GET /metrics
  kQueueList,      // GET /api/v1/queue
  kQueueSummary,   // GET /api/v1/queue/summary
  kMessage,        // GET|DELETE /api/v1/queue/{id}
  kMessageAction,  // POST /api/v1/queue/{id}/{flush|hold|release|bounce}
  kDomainAction,   // POST /api/v1/domains/{domain}/{flush|hold|release}
  // Provisioning (SPEC section 10); `id` holds the reseller/customer/token ID or domain.
  kResellers,     // GET|POST /api/v1/resellers
  kReseller,      // GET|PATCH|DELETE /api/v1/resellers/{id}
  kCustomers,     // GET|POST /api/v1/customers
  kCustomer,      // GET|PATCH|DELETE /api/v1/customers/{id}
  kDomains,       // GET|POST /api/v1/domains
  kDomainsBatch,  // POST /api/v1/domains:batch
  kDomain,        // GET|PATCH|DELETE /api/v1/domains/{name}
  kDomainStatus,  // GET /api/v1/domains/{name}/status
  kDomainVerify,  // POST /api/v1/domains/{name}/verify
  kTokens,        // GET|POST /api/v1/tokens
  kToken,         // DELETE /api/v1/tokens/{id}
  kAudit,         // GET /api/v1/audit
  // Monitoring (SPEC section 11); kContactsTest's `id` is the customer ID.
  kAlerts,        // GET /api/v1/alerts
  kUsage,         // GET /api/v1/usage
  kContactsTest,  // POST /api/v1/customers/{id}/contacts/test
  // Cluster mode (SPEC section 13), the operator only.
  kClusterNodes,  // GET /api/v1/cluster/nodes
};

struct Route {
  Endpoint endpoint = Endpoint::kUnknown;
  bool api = false;                          // under /api/: needs the bearer token
  std::string id;                            // kMessage, kMessageAction (as given, %-decoded)
  std::string domain;                        // kDomainAction (%-decoded, lower-cased)
  std::string action;                        // kMessageAction, kDomainAction
  std::map<std::string, std::string> query;  // %-decoded, '+' is a space; last one wins
};

// Splits and matches `target` ("/path?query"). Returns nullopt with `error` set when the
// target is not a path or holds a malformed %-escape. One trailing '/' is ignored.
std::optional<Route> ParseRoute(std::string_view target, std::string* error);

// The methods an endpoint answers, for 405 and the Allow header ("GET", "GET, DELETE", ...).
const char* AllowedMethods(Endpoint e);
bool MethodAllowed(Endpoint e, std::string_view method);

// RFC 3986 %-decoding; `plus_is_space` for query components. nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace sw::admin
