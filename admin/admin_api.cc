// Owns the admin API's behaviour (SPEC section 7): auth, routing, queue listing and actions,
// /healthz and /metrics. Fails by HTTP status with a JSON {"error": "..."} body, never throws.
#include "admin/admin_api.h"

#include <charconv>

#include "admin/bearer_auth.h"
#include "admin/envelope_json.h"
#include "admin/header_section.h"
#include "common/json_text.h"
#include "common/log.h"
#include "queue/queue_id.h"

namespace sw::admin {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

HttpResponse Json(unsigned status, const json::value& body) {
  HttpResponse r;
  r.status = status;
  r.body = json_text::Serialize(body);
  r.body.push_back('\n');
  return r;
}

// Queue IDs are 16 hex digits; lower case is accepted and normalized.
bool NormalizeId(std::string* id) {
  for (char& c : *id)
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  uint64_t v;
  return queue::ParseQueueId(*id, &v);
}

std::optional<queue::QueueAction> ActionFor(std::string_view a) {
  if (a == "flush") return queue::QueueAction::kFlush;
  if (a == "hold") return queue::QueueAction::kHold;
  if (a == "release") return queue::QueueAction::kRelease;
  if (a == "delete") return queue::QueueAction::kDelete;
  if (a == "bounce") return queue::QueueAction::kBounce;
  return std::nullopt;
}

// Status of RelayQueue::Act to HTTP: kInvalid / kUnavailable mean "not in this state".
unsigned HttpStatusFor(const Status& st) {
  switch (st.code()) {
    case Status::Code::kOk:
      return 200;
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kInvalid:
    case Status::Code::kUnavailable:
      return 409;
    default:
      return 500;
  }
}

}  // namespace

HttpResponse ErrorResponse(unsigned status, std::string_view message) {
  return Json(status, json::object{{"error", message}});
}

AdminApi::AdminApi(queue::RelayQueue& queue, ConfigFn config, control::ControlPlane* control,
                   metrics::Registry& registry)
    : queue_(queue),
      config_(std::move(config)),
      control_(control),
      portal_(config_, control),
      registry_(registry) {
  if (control_) {
    tenants_.emplace(*control_);
    domains_.emplace(*control_, queue_);
    alerts_.emplace(*control_, config_);
  }
  metrics::RegisterWellKnown();
  metric_handles_ = RegisterQueueMetrics(registry_, queue_, config_);
}

void AdminApi::SetTestAlertHook(TestAlertFn fn) {
  if (alerts_) alerts_->SetTestHook(std::move(fn));
}

std::variant<control::Principal, HttpResponse> AdminApi::Authenticate(const HttpRequest& req) {
  auto cfg = config_();
  AuthResult auth = CheckBearer(req.authorization, cfg ? cfg->admin.token : "");
  control::Principal p = control::ControlPlane::OperatorPrincipal();
  // A portal session (cookie) stands for a token only without an Authorization header, and
  // only with its CSRF token on a write.
  if (req.authorization.empty()) {
    if (auto session = portal_.Authenticate(req)) {
      if (auto* resp = std::get_if<HttpResponse>(&*session)) return std::move(*resp);
      p = std::get<control::Principal>(*session);
      auth = AuthResult::kOk;
    }
  }
  if (auth != AuthResult::kOk && control_ && auth != AuthResult::kMissing) {
    std::string_view h = req.authorization;
    std::string_view token = h.size() > 7 ? h.substr(7) : std::string_view();
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    if (token.rfind("sw_", 0) == 0) {
      if (auto found = control_->Authenticate(token)) {
        p = *found;
        auth = AuthResult::kOk;
      } else {
        auth = AuthResult::kWrong;
      }
    }
  }
  switch (auth) {
    case AuthResult::kOk:
      break;
    case AuthResult::kNotConfigured:
      return ErrorResponse(403, "admin.token is not configured; the API is disabled");
    case AuthResult::kMissing: {
      auto r = ErrorResponse(401, "missing bearer token");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"spamweeder\"");
      return r;
    }
    case AuthResult::kWrong: {
      log::Warn("admin_auth_failed").kv("target", req.target).kv("client", req.client_ip);
      auto r = ErrorResponse(401, "invalid bearer token");
      r.headers.emplace_back("WWW-Authenticate",
                             "Bearer realm=\"spamweeder\", error=\"invalid_token\"");
      return r;
    }
  }
  if (cfg) limiter_.Configure(cfg->admin.rate_limit, cfg->admin.rate_burst);
  if (uint32_t wait = limiter_.Take(p.token_id)) {
    auto r = ErrorResponse(429, "too many requests for this token");
    r.headers.emplace_back("Retry-After", std::to_string(wait));
    return r;
  }
  return p;
}

asio::awaitable<HttpResponse> AdminApi::Handle(HttpRequest req) {
  if (Portal::Owns(req.target)) co_return portal_.Handle(req);
  std::string error;
  auto route = ParseRoute(req.target, &error);
  if (!route) co_return ErrorResponse(400, error);
  control::Principal principal = control::ControlPlane::OperatorPrincipal();
  if (route->api) {
    auto auth = Authenticate(req);
    if (auto* resp = std::get_if<HttpResponse>(&auth)) co_return std::move(*resp);
    principal = std::get<control::Principal>(auth);
  }
  if (route->endpoint == Endpoint::kUnknown) co_return ErrorResponse(404, "no such endpoint");
  if (!MethodAllowed(route->endpoint, req.method)) {
    auto r = ErrorResponse(405, "method " + req.method + " not allowed");
    r.headers.emplace_back("Allow", AllowedMethods(route->endpoint));
    co_return r;
  }
  if (route->api && req.method != "GET" && principal.role == control::Role::kRead)
    co_return ErrorResponse(403, "this token is read-only");
  co_return co_await Dispatch(principal, req, *route);
}

asio::awaitable<HttpResponse> AdminApi::Dispatch(const control::Principal& p,
                                                 const HttpRequest& req, const Route& r) {
  switch (r.endpoint) {
    case Endpoint::kHealthz: {
      // Still 200 while the control store is down: mail flows on the loaded state.
      bool store_up = !control_ || control_->StoreUp();
      co_return Json(200, json::object{{"status", store_up ? "ok" : "degraded"},
                                       {"control_store", store_up ? "up" : "unavailable"},
                                       {"queued", uint64_t{queue_.size()}}});
    }
    case Endpoint::kMetrics: {
      HttpResponse resp;
      resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
      resp.body = registry_.Render();
      co_return resp;
    }
    case Endpoint::kQueueList:
      co_return co_await List(p, r);
    case Endpoint::kQueueSummary:
      co_return Summary(p);
    case Endpoint::kMessage:
      if (req.method == "DELETE") co_return co_await ActOnMessage(p, r.id, "delete");
      co_return co_await Show(p, r.id);
    case Endpoint::kMessageAction:
      co_return co_await ActOnMessage(p, r.id, r.action);
    case Endpoint::kDomainAction:
      co_return co_await ActOnDomain(p, r.domain, r.action);
    case Endpoint::kResellers:
    case Endpoint::kReseller:
    case Endpoint::kCustomers:
    case Endpoint::kCustomer:
    case Endpoint::kTokens:
    case Endpoint::kToken:
    case Endpoint::kAudit:
      if (!tenants_) break;
      co_return tenants_->Handle(p, req, r);
    case Endpoint::kDomains:
    case Endpoint::kDomainsBatch:
    case Endpoint::kDomain:
    case Endpoint::kDomainStatus:
      if (!domains_) break;
      co_return domains_->Handle(p, req, r);
    case Endpoint::kDomainVerify:
      if (!domains_) break;
      co_return co_await domains_->Verify(p, req, r);
    case Endpoint::kAlerts:
    case Endpoint::kUsage:
    case Endpoint::kContactsTest:
      if (!alerts_) break;
      co_return alerts_->Handle(p, req, r);
    case Endpoint::kClusterNodes:
      if (!p.is_operator()) break;  // as if there were no such endpoint
      if (cluster_nodes_) co_return Json(200, cluster_nodes_());
      co_return Json(200, json::object{{"cluster", false}, {"nodes", json::array{}}});
    case Endpoint::kUnknown:
      break;
  }
  co_return ErrorResponse(404, "no such endpoint");
}

bool AdminApi::SeesQueuedDomain(const control::Principal& p, const std::string& domain) const {
  return p.is_operator() || (control_ && control_->SeesDomain(p, domain));
}

bool AdminApi::SeesMessage(const control::Principal& p, const queue::Envelope& env) const {
  if (p.is_operator()) return true;
  for (const auto& r : env.recipients)
    if (SeesQueuedDomain(p, r.domain)) return true;
  return false;
}

asio::awaitable<HttpResponse> AdminApi::List(const control::Principal& p, const Route& r) {
  size_t limit = kDefaultListLimit;
  if (auto it = r.query.find("limit"); it != r.query.end()) {
    const std::string& s = it->second;
    uint64_t v = 0;
    auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || res.ec != std::errc() || res.ptr != s.data() + s.size() || v == 0)
      co_return ErrorResponse(400, "limit must be a positive integer");
    limit = v > kMaxListLimit ? kMaxListLimit : static_cast<size_t>(v);
  }
  std::string after;
  if (auto it = r.query.find("after"); it != r.query.end() && !it->second.empty()) {
    after = it->second;
    if (!NormalizeId(&after)) co_return ErrorResponse(400, "after must be a queue ID");
  }
  std::string domain;
  if (auto it = r.query.find("domain"); it != r.query.end()) {
    domain = it->second;
    for (char& c : domain)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!domain.empty() && !SeesQueuedDomain(p, domain))
    co_return ErrorResponse(404, "no such domain: " + domain);
  // One more than the page tells whether there is a next page. A tenant's page is filtered
  // from the queue's pages (in ID order), so `next` stays a valid cursor.
  std::vector<queue::Envelope> envs;
  for (std::string cursor = after; envs.size() <= limit;) {
    // Read by key from the store (the domain index when filtered), never by offset.
    auto page = co_await queue_.List(domain, limit + 1, cursor);
    for (auto& env : page)
      if (envs.size() <= limit && SeesMessage(p, env)) envs.push_back(std::move(env));
    if (page.size() < limit + 1) break;
    cursor = page.back().id;
  }
  bool more = envs.size() > limit;
  if (more) envs.resize(limit);
  json::array messages;
  for (const auto& env : envs) messages.push_back(MessageJson(env, false));
  json::value next = more && !envs.empty() ? json::value(envs.back().id) : json::value(nullptr);
  co_return Json(200, json::object{{"messages", std::move(messages)}, {"next", std::move(next)}});
}

HttpResponse AdminApi::Summary(const control::Principal& p) {
  int64_t now = queue::NowMs();
  json::array domains;
  for (const auto& s : queue_.Summary())
    if (SeesQueuedDomain(p, s.domain)) domains.push_back(DomainSummaryJson(s, now));
  // Messages for several domains count once per domain above; this is the queue's size.
  return Json(200, json::object{{"domains", std::move(domains)},
                                {"total", {{"messages", uint64_t{queue_.size()}}}}});
}

asio::awaitable<HttpResponse> AdminApi::Show(const control::Principal& p, std::string id) {
  if (!NormalizeId(&id)) co_return ErrorResponse(400, "malformed queue ID (16 hex digits)");
  std::optional<queue::Envelope> found = co_await queue_.Find(id);
  if (!found || !SeesMessage(p, *found)) co_return ErrorResponse(404, "no such message: " + id);
  queue::Envelope env = std::move(*found);
  auto [st, body] = co_await queue_.Body(id);
  json::array headers;
  if (st.ok() && body) {
    for (const auto& [name, value] : ParseHeaderSection(*body))
      headers.push_back(json::array{name, value});
  }
  json::object doc{{"message", MessageJson(env, true)}, {"headers", std::move(headers)}};
  if (!st.ok()) doc["headers_error"] = st.message();
  co_return Json(200, std::move(doc));
}

asio::awaitable<HttpResponse> AdminApi::ActOnMessage(const control::Principal& p, std::string id,
                                                     std::string action) {
  if (!NormalizeId(&id)) co_return ErrorResponse(400, "malformed queue ID (16 hex digits)");
  if (auto env = co_await queue_.Find(id); !env || !SeesMessage(p, *env))
    co_return ErrorResponse(404, "no such message: " + id);
  auto act = ActionFor(action);
  if (!act) co_return ErrorResponse(404, "no such action: " + action);
  Status st = co_await queue_.Act(id, *act);
  log::Info("admin_action")
      .kv("id", id)
      .kv("action", action)
      .kv("ok", st.ok())
      .kv("detail", st.message());
  if (!st.ok()) {
    unsigned code = HttpStatusFor(st);
    std::string msg = st.message().empty()
                          ? (code == 404 ? "no such message: " + id : action + " failed")
                          : st.message();
    co_return ErrorResponse(code, msg);
  }
  co_return Json(200, json::object{{"id", id}, {"action", action}, {"result", "ok"}});
}

asio::awaitable<HttpResponse> AdminApi::ActOnDomain(const control::Principal& p, std::string domain,
                                                    std::string action) {
  if (!SeesQueuedDomain(p, domain)) co_return ErrorResponse(404, "no such domain: " + domain);
  auto act = ActionFor(action);
  if (!act) co_return ErrorResponse(404, "no such domain action: " + action);
  auto cfg = config_();
  bool configured = cfg && cfg->domains.count(domain) > 0;
  bool queued = false;
  if (!configured)
    for (const auto& s : queue_.Summary())
      if (s.domain == domain) queued = true;
  if (!configured && !queued) co_return ErrorResponse(404, "no such domain: " + domain);
  size_t n = co_await queue_.ActOnDomain(domain, *act);
  log::Info("admin_action").kv("domain", domain).kv("action", action).kv("messages", n);
  co_return Json(200,
                 json::object{{"domain", domain}, {"action", action}, {"messages", uint64_t{n}}});
}

}  // namespace sw::admin
