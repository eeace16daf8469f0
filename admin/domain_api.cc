// Owns the provisioning endpoints for domains: list/search, create (one or a batch of up to
// 1,000), get, PATCH with versions, delete (mail drains), status. Fails by HTTP status + JSON.
#include "admin/domain_api.h"

#include <openssl/rand.h>

#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "admin/alert_api.h"
#include "admin/api_reply.h"
#include "control/domain_json.h"
#include "control/txt_lookup.h"
#include "queue/queue_id.h"

namespace sw::admin {

namespace asio = boost::asio;
namespace json = boost::json;
using control::DomainRecord;
using control::Mutation;
using control::Principal;

namespace {

HttpResponse NotFound() { return FieldReply(404, "no such domain", ""); }

// Runs the blocking TXT lookup on `pool` and resumes the caller on its own executor. (A plain
// initiation, not a lambda coroutine with captures: GCC 12 miscompiles those.)
asio::awaitable<control::TxtAnswer> LookupOffLoop(asio::thread_pool& pool, std::string name,
                                                  std::vector<config::ListenAddress> servers) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(control::TxtAnswer)>(
      [&pool](auto handler, std::string n, std::vector<config::ListenAddress> s) {
        asio::post(pool, [h = std::move(handler), n = std::move(n), s = std::move(s)]() mutable {
          control::TxtAnswer a = control::LookupTxt(n, s);
          auto ex = asio::get_associated_executor(h);
          asio::post(ex, [h = std::move(h), a = std::move(a)]() mutable { std::move(h)(a); });
        });
      },
      asio::use_awaitable, std::move(name), std::move(servers));
}

std::string VerificationCode() {
  static const char kHex[] = "0123456789abcdef";
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  std::string s;
  for (unsigned char c : b) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

json::object Changes(const json::object& in) {
  json::object out;
  for (const auto& [k, v] : in)
    if (k != "version" && k != "name") out[k] = v;
  return out;
}

}  // namespace

HttpResponse DomainApi::Handle(const Principal& p, const HttpRequest& req, const Route& r) {
  if (r.endpoint == Endpoint::kDomains) return req.method == "POST" ? Create(p, req) : List(p, r);
  if (r.endpoint == Endpoint::kDomainsBatch) return Batch(p, req);
  auto d = control_.FindDomain(r.id);
  if (!d || !control_.SeesDomain(p, r.id)) return NotFound();
  switch (r.endpoint) {
    case Endpoint::kDomain:
      if (req.method == "GET") return JsonReply(200, control::DomainView(*d));
      if (req.method == "DELETE") return Delete(p, req, *d);
      return Patch(p, req, *d);
    case Endpoint::kDomainStatus:
      return Status(p, *d);
    default:
      return NotFound();
  }
}

HttpResponse DomainApi::List(const Principal& p, const Route& r) {
  HttpResponse err;
  auto limit = LimitParam(r.query, 100, 1000, &err);
  if (!limit) return err;
  std::string after, search;
  if (auto it = r.query.find("after"); it != r.query.end()) after = it->second;
  if (auto it = r.query.find("search"); it != r.query.end()) search = it->second;
  for (char& c : search) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto rows = control_.ListDomains(after, *limit + 1, [&](const DomainRecord& d) {
    if (!search.empty() && d.domain.name.find(search) == std::string::npos) return false;
    return p.is_operator() ||
           (!d.domain.customer.empty() && control_.SeesCustomer(p, d.domain.customer));
  });
  bool more = rows.size() > *limit;
  if (more) rows.resize(*limit);
  json::array out;
  for (const auto& d : rows) out.push_back(control::DomainView(d));
  json::value next = nullptr;
  if (more && !rows.empty()) next = rows.back().domain.name;
  return JsonReply(200, json::object{{"domains", std::move(out)}, {"next", next}});
}

std::optional<HttpResponse> DomainApi::Prepare(const Principal& p, json::object item,
                                               const std::set<std::string>& taken,
                                               std::map<std::string, uint64_t>& added,
                                               DomainRecord* out) {
  if (p.is_customer()) return FieldReply(403, "customers cannot create domains", "");
  if (auto e = control::ApplyDomainJson(item, control::DomainInput::kCreate, out))
    return Unprocessable(*e);
  config::DomainConfig& d = out->domain;
  if (p.is_reseller() && d.customer.empty())
    return Unprocessable({"customer", "required: the customer the domain belongs to"});
  if (!d.customer.empty() && !control_.SeesCustomer(p, d.customer))
    return Unprocessable({"customer", "no such customer"});
  if (control_.FindDomain(d.name) || taken.count(d.name))
    return FieldReply(409, "domain " + d.name + " is already provisioned", "name");
  std::string reseller = control_.ResellerOf(d);
  if (const control::Reseller* r = control_.FindReseller(reseller); r && r->max_domains > 0) {
    if (control_.DomainsOf(reseller) + added[reseller] >= r->max_domains)
      return FieldReply(403, "plan limit reached: " + std::to_string(r->max_domains) + " domains",
                        "plan.max_domains");
  }
  ++added[reseller];
  d.source = config::DomainSource::kApi;
  d.version = 1;
  bool verify = control_.file_config()->provisioning.require_verification;
  d.state = verify ? config::DomainState::kPending : config::DomainState::kActive;
  if (verify) out->verification_code = VerificationCode();
  out->created_ms = out->updated_ms = control::ControlPlane::NowMs();
  return std::nullopt;
}

HttpResponse DomainApi::Create(const Principal& p, const HttpRequest& req) {
  HttpResponse err;
  auto body = ParseObjectBody(req, &err);
  if (!body) return err;
  DomainRecord d;
  std::map<std::string, uint64_t> added;
  if (auto e = Prepare(p, *body, {}, added, &d)) return *e;
  Mutation m;
  m.domains.push_back(d);
  m.audit.push_back({"domain.create", d.domain.name, Changes(*body), control_.ResellerOf(d.domain),
                     d.domain.customer});
  ::sw::Status st = control_.Apply(p, req.client_ip, std::move(m));
  if (!st.ok()) return StoreWriteFailed(st);
  return JsonReply(201, control::DomainView(d));
}

HttpResponse DomainApi::Batch(const Principal& p, const HttpRequest& req) {
  HttpResponse err;
  auto body = ParseObjectBody(req, &err);
  if (!body) return err;
  auto* items = body->if_contains("domains");
  if (!items || !items->is_array())
    return Unprocessable({"domains", "required: a list of domain objects"});
  if (items->as_array().empty() || items->as_array().size() > kMaxBatch)
    return Unprocessable({"domains", "1 to " + std::to_string(kMaxBatch) + " items"});
  for (const auto& [k, v] : *body)
    if (k != "domains") return Unprocessable({std::string(k), "unknown field"});
  std::set<std::string> taken;
  std::map<std::string, uint64_t> added;
  Mutation m;
  json::array results;
  for (size_t i = 0; i < items->as_array().size(); ++i) {
    const json::value& item = items->as_array()[i];
    json::value name = item.is_object() && item.as_object().contains("name")
                           ? item.as_object().at("name")
                           : json::value(nullptr);
    DomainRecord d;
    std::optional<HttpResponse> bad;
    if (!item.is_object()) {
      bad = Unprocessable({"domains[" + std::to_string(i) + "]", "must be an object"});
    } else {
      bad = Prepare(p, item.as_object(), taken, added, &d);
    }
    if (bad) {
      json::object res = json::parse(bad->body).as_object();
      res["name"] = name;
      res["status"] = bad->status;
      results.push_back(std::move(res));
      continue;
    }
    taken.insert(d.domain.name);
    m.audit.push_back({"domain.create", d.domain.name, Changes(item.as_object()),
                       control_.ResellerOf(d.domain), d.domain.customer});
    results.push_back(
        json::object{{"name", d.domain.name}, {"status", 201}, {"domain", control::DomainView(d)}});
    m.domains.push_back(std::move(d));
  }
  if (!m.domains.empty()) {
    ::sw::Status st = control_.Apply(p, req.client_ip, std::move(m));
    if (!st.ok()) return StoreWriteFailed(st);
  }
  return JsonReply(200, json::object{{"results", std::move(results)}});
}

HttpResponse DomainApi::Patch(const Principal& p, const HttpRequest& req, const DomainRecord& d) {
  if (d.domain.source == config::DomainSource::kConfig)
    return FieldReply(409, "domain " + d.domain.name + " comes from the config file (read-only)",
                      "");
  HttpResponse err;
  auto body = ParsePatch(req, d.domain.version, &err);
  if (!body) return err;
  DomainRecord updated = d;
  if (auto e = control::ApplyDomainJson(*body, control::DomainInput::kPatch, &updated))
    return Unprocessable(*e);
  if (updated.domain.customer != d.domain.customer) {
    if (p.is_customer()) return Unprocessable({"customer", "a customer cannot move a domain"});
    if (updated.domain.customer.empty() && !p.is_operator())
      return Unprocessable({"customer", "required"});
    if (!updated.domain.customer.empty() && !control_.SeesCustomer(p, updated.domain.customer))
      return Unprocessable({"customer", "no such customer"});
  }
  ++updated.domain.version;
  updated.updated_ms = control::ControlPlane::NowMs();
  Mutation m;
  m.domains.push_back(updated);
  m.audit.push_back({"domain.update", d.domain.name, Changes(*body),
                     control_.ResellerOf(updated.domain), updated.domain.customer});
  ::sw::Status st = control_.Apply(p, req.client_ip, std::move(m));
  if (!st.ok()) return StoreWriteFailed(st);
  return JsonReply(200, control::DomainView(updated));
}

HttpResponse DomainApi::Delete(const Principal& p, const HttpRequest& req, const DomainRecord& d) {
  if (p.is_customer()) return FieldReply(403, "customers cannot delete domains", "");
  if (d.domain.source == config::DomainSource::kConfig)
    return FieldReply(409, "domain " + d.domain.name + " comes from the config file (read-only)",
                      "");
  DomainRecord tomb = d;
  tomb.domain.state = config::DomainState::kDeleted;
  ++tomb.domain.version;
  tomb.updated_ms = control::ControlPlane::NowMs();
  Mutation m;
  m.domains.push_back(tomb);
  m.audit.push_back(
      {"domain.delete", d.domain.name, {}, control_.ResellerOf(d.domain), d.domain.customer});
  ::sw::Status st = control_.Apply(p, req.client_ip, std::move(m));
  if (!st.ok()) return StoreWriteFailed(st);
  return NoContent();
}

HttpResponse DomainApi::Status(const Principal& p, const DomainRecord& d) {
  json::object q{{"depth", 0}, {"bytes", 0}, {"oldest_age_s", 0}, {"held", 0}};
  bool up = true;
  int64_t now = queue::NowMs();
  for (const auto& s : queue_.Summary()) {
    if (s.domain != d.domain.name) continue;
    up = s.up;
    q = {{"depth", s.messages},
         {"bytes", s.bytes},
         {"oldest_age_s", s.oldest_arrival_ms ? (now - s.oldest_arrival_ms) / 1000 : 0},
         {"held", s.held}};
  }
  json::array history = StatusHistory(control_.store(), d.domain.name, kStatusHistoryLimit);
  // `since`: the start of the newest period of the alert engine's history when it agrees.
  json::value since = nullptr;
  if (!history.empty() && history.front().is_object()) {
    const json::object& newest = history.front().as_object();
    auto* state = newest.if_contains("state");
    auto* from = newest.if_contains("from");
    if (state && from && from->is_string() && *state == (up ? "up" : "down")) since = *from;
  }
  return JsonReply(
      200, json::object{
               {"domain", d.domain.name},
               {"state", d.domain.state == config::DomainState::kPending ? "pending" : "active"},
               {"up", up},
               {"since", std::move(since)},
               {"queue", std::move(q)},
               {"history", std::move(history)},
               {"alerts", RecentAlerts(control_.store(), p, d.domain.name, kStatusAlertsLimit)}});
}

asio::awaitable<HttpResponse> DomainApi::Verify(Principal p, HttpRequest req, Route r) {
  auto d = control_.FindDomain(r.id);
  if (!d || !control_.SeesDomain(p, r.id)) co_return NotFound();
  if (d->domain.state != config::DomainState::kPending)
    co_return JsonReply(200, json::object{{"domain", d->domain.name}, {"state", "active"}});
  std::string name = "_spamweeder." + d->domain.name;
  auto servers = control_.file_config()->dns.servers;
  control::TxtAnswer answer = co_await LookupOffLoop(dns_pool_, name, servers);
  // The domain may have changed while the lookup ran.
  d = control_.FindDomain(r.id);
  if (!d || !control_.SeesDomain(p, r.id)) co_return NotFound();
  if (d->domain.state != config::DomainState::kPending)
    co_return JsonReply(200, json::object{{"domain", d->domain.name}, {"state", "active"}});
  std::string want = "spamweeder-verification=" + d->verification_code;
  bool found = false;
  for (const auto& t : answer.records) found |= t == want;
  if (!found) {
    std::string why = !answer.error.empty()
                          ? "DNS lookup of " + name + " failed (" + answer.error + "); try again"
                          : "TXT record " + name + " does not hold " + want;
    co_return FieldReply(answer.error.empty() ? 422 : 503, why, "verification");
  }
  DomainRecord active = *d;
  active.domain.state = config::DomainState::kActive;
  active.verification_code.clear();
  ++active.domain.version;
  active.updated_ms = control::ControlPlane::NowMs();
  Mutation m;
  m.domains.push_back(active);
  m.audit.push_back({"domain.verify", d->domain.name, json::object{{"state", "active"}},
                     control_.ResellerOf(d->domain), d->domain.customer});
  ::sw::Status st = control_.Apply(p, req.client_ip, std::move(m));
  if (!st.ok()) co_return StoreWriteFailed(st);
  co_return JsonReply(200, control::DomainView(active));
}

DomainApi::~DomainApi() { dns_pool_.join(); }

}  // namespace sw::admin
