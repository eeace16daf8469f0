// Owns a domain record as JSON: API input (create, PATCH) validated with config's domain
// rules, the API view, and the stored form. Fails by FieldError naming the field.
#include "control/domain_json.h"

#include <cmath>

#include "config/domain_rules.h"

namespace sw::control {

namespace json = boost::json;
using config::DomainConfig;

namespace {

constexpr size_t kMaxDestinations = 16;
constexpr size_t kMaxRecipients = 10000;

MaybeError Score(const json::value& v, const std::string& f, std::optional<double>* out) {
  if (v.is_null()) {
    out->reset();
    return std::nullopt;
  }
  if (!v.is_number()) return FieldError{f, "must be a number or null"};
  double d = v.to_number<double>();
  if (!std::isfinite(d) || std::fabs(d) > 1e6) return FieldError{f, "out of range"};
  *out = d;
  return std::nullopt;
}

MaybeError Spam(const json::value& v, config::SpamPolicy* spam) {
  if (!v.is_object()) return FieldError{"spam", "must be an object"};
  for (const auto& [k, val] : v.as_object()) {
    std::string f = "spam." + std::string(k);
    if (k == "tag_score") {
      if (auto e = Score(val, f, &spam->tag_score)) return e;
    } else if (k == "reject_score") {
      if (auto e = Score(val, f, &spam->reject_score)) return e;
    } else if (k == "subject_tag") {
      if (!val.is_string() || val.as_string().size() > 64)
        return FieldError{f, "must be a string of at most 64 characters"};
      for (unsigned char c : val.as_string())
        if (c < 0x20 || c == 0x7f) return FieldError{f, "must not contain control characters"};
      spam->subject_tag = std::string(val.as_string());
    } else {
      return FieldError{f, "unknown field"};
    }
  }
  if (std::string why = config::CheckScores(*spam); !why.empty())
    return FieldError{"spam.tag_score", why};
  return std::nullopt;
}

MaybeError Destinations(const json::value& v, DomainConfig* d) {
  if (!v.is_array()) return FieldError{"destinations", "must be a list"};
  const auto& a = v.as_array();
  if (a.empty()) return FieldError{"destinations", "must list at least one destination"};
  if (a.size() > kMaxDestinations)
    return FieldError{"destinations", "at most " + std::to_string(kMaxDestinations)};
  std::vector<config::Destination> out;
  for (size_t i = 0; i < a.size(); ++i) {
    std::string f = "destinations[" + std::to_string(i) + "]";
    if (!a[i].is_string()) return FieldError{f, "must be a string"};
    auto dest = config::ParseDestination(std::string(a[i].as_string()));
    if (!dest) return FieldError{f, "expected host, host:port, [ip]:port or [host]:port"};
    out.push_back(*dest);
  }
  d->destinations = std::move(out);
  return std::nullopt;
}

MaybeError Recipients(const json::value& v, DomainConfig* d) {
  if (!v.is_array()) return FieldError{"recipients", "must be a list"};
  if (v.as_array().size() > kMaxRecipients)
    return FieldError{"recipients", "at most " + std::to_string(kMaxRecipients)};
  std::vector<std::string> out;
  for (size_t i = 0; i < v.as_array().size(); ++i) {
    std::string f = "recipients[" + std::to_string(i) + "]";
    const auto& item = v.as_array()[i];
    if (!item.is_string()) return FieldError{f, "must be a string"};
    std::string norm;
    std::string why = config::CheckRecipient(std::string(item.as_string()), d->name, &norm);
    if (!why.empty()) return FieldError{f, why};
    if (std::find(out.begin(), out.end(), norm) == out.end()) out.push_back(norm);
  }
  d->recipients = std::move(out);
  return std::nullopt;
}

MaybeError Choice(const json::value& v, const std::string& f,
                  std::initializer_list<const char*> allowed, std::string* out) {
  std::string list;
  for (const char* a : allowed) {
    if (v.is_string() && v.as_string() == a) {
      *out = a;
      return std::nullopt;
    }
    list += list.empty() ? a : std::string(", ") + a;
  }
  return FieldError{f, "must be one of: " + list};
}

const char* TlsName(config::TlsPolicy t) {
  switch (t) {
    case config::TlsPolicy::kRequired:
      return "required";
    case config::TlsPolicy::kVerify:
      return "verify";
    default:
      return "opportunistic";
  }
}

MaybeError ApplyKey(std::string_view k, const json::value& v, DomainInput mode, DomainRecord* out) {
  DomainConfig* d = &out->domain;
  if (k == "name") {
    if (mode == DomainInput::kPatch) {
      std::string n = v.is_string() ? config::NormalizeDomainName(v.as_string()) : "";
      if (n != d->name) return FieldError{"name", "cannot be changed"};
      return std::nullopt;
    }
    return std::nullopt;  // read by the caller first
  }
  if (k == "destinations") {
    if (mode == DomainInput::kStored && v.is_array() && v.as_array().empty()) return std::nullopt;
    return Destinations(v, d);
  }
  if (k == "filtering") {
    if (!v.is_bool()) return FieldError{"filtering", "must be true or false"};
    d->filtering = v.as_bool();
    return std::nullopt;
  }
  if (k == "spam") return Spam(v, &d->spam);
  if (k == "virus") {
    std::string s;
    return Choice(v, "virus", {"reject"}, &s);
  }
  if (k == "tls") {
    std::string s;
    if (auto e = Choice(v, "tls", {"opportunistic", "required", "verify"}, &s)) return e;
    d->tls = s == "required" ? config::TlsPolicy::kRequired
             : s == "verify" ? config::TlsPolicy::kVerify
                             : config::TlsPolicy::kOpportunistic;
    return std::nullopt;
  }
  if (k == "recipients") return Recipients(v, d);
  if (k == "recipient_verification") {
    std::string s;
    if (auto e = Choice(v, "recipient_verification", {"off", "callout"}, &s)) return e;
    d->recipient_verification = s == "callout" ? config::RecipientVerification::kCallout
                                               : config::RecipientVerification::kOff;
    return std::nullopt;
  }
  if (k == "customer") {
    if (v.is_null()) {
      d->customer.clear();
    } else if (!v.is_string() || v.as_string().size() > 64) {
      return FieldError{"customer", "must be a customer ID or null"};
    } else {
      d->customer = std::string(v.as_string());
    }
    return std::nullopt;
  }
  // Read-only keys the API shows may come back in a PATCH body unchanged.
  if (k == "version" || k == "source" || k == "state" || k == "verification" || k == "created_at" ||
      k == "updated_at")
    return std::nullopt;
  return FieldError{std::string(k), "unknown field"};
}

// Whole scores as integers (6, not 6E0), others as they are, off as null.
json::value ScoreValue(const std::optional<double>& v) {
  if (!v) return nullptr;
  if (std::trunc(*v) == *v && std::fabs(*v) < 1e15) return static_cast<int64_t>(*v);
  return *v;
}

}  // namespace

MaybeError ApplyDomainJson(const json::object& in, DomainInput mode, DomainRecord* out) {
  if (mode != DomainInput::kPatch) {
    auto* n = in.if_contains("name");
    if (!n) return FieldError{"name", "required"};
    if (!n->is_string()) return FieldError{"name", "must be a string"};
    std::string name = config::NormalizeDomainName(n->as_string());
    if (name.empty())
      return FieldError{"name", "not a domain name (letters, digits, hyphens and dots)"};
    out->domain.name = name;
    if (mode == DomainInput::kCreate && !in.contains("destinations"))
      return FieldError{"destinations", "required"};
  }
  // Destinations and name first: recipients are checked against the name.
  for (const auto& [k, v] : in)
    if (auto e = ApplyKey(k, v, mode, out)) return e;
  return std::nullopt;
}

json::object DomainView(const DomainRecord& r) {
  const DomainConfig& d = r.domain;
  json::array dests, rcpts;
  for (const auto& x : d.destinations) dests.emplace_back(x.ToString());
  for (const auto& x : d.recipients) rcpts.emplace_back(x);
  json::object spam;
  spam["tag_score"] = ScoreValue(d.spam.tag_score);
  spam["reject_score"] = ScoreValue(d.spam.reject_score);
  spam["subject_tag"] = d.spam.subject_tag;
  const char* verification =
      d.recipient_verification == config::RecipientVerification::kCallout ? "callout" : "off";
  json::object o{{"name", d.name},
                 {"source", d.source == config::DomainSource::kConfig ? "config" : "api"},
                 {"state", d.state == config::DomainState::kPending ? "pending" : "active"},
                 {"destinations", std::move(dests)},
                 {"filtering", d.filtering},
                 {"spam", std::move(spam)},
                 {"virus", "reject"},
                 {"tls", TlsName(d.tls)},
                 {"recipients", std::move(rcpts)},
                 {"recipient_verification", verification},
                 {"version", d.version}};
  o["customer"] = d.customer.empty() ? json::value(nullptr) : json::value(d.customer);
  if (r.created_ms) o["created_at"] = IsoTime(r.created_ms);
  if (r.updated_ms) o["updated_at"] = IsoTime(r.updated_ms);
  if (d.state == config::DomainState::kPending && !r.verification_code.empty())
    o["verification"] = {{"record", "_spamweeder." + d.name},
                         {"type", "TXT"},
                         {"value", "spamweeder-verification=" + r.verification_code}};
  return o;
}

std::string StoreDomain(const DomainRecord& r) {
  json::object o = DomainView(r);
  o.erase("verification");
  o["deleted"] = r.domain.state == config::DomainState::kDeleted;
  o["verification_code"] = r.verification_code;
  o["created_ms"] = r.created_ms;
  o["updated_ms"] = r.updated_ms;
  return json::serialize(o);
}

bool LoadDomain(const std::string& text, DomainRecord* out) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return false;
  json::object o = v.as_object();
  auto str = [&](const char* k) {
    auto* x = o.if_contains(k);
    return x && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  auto num = [&](const char* k) {
    auto* x = o.if_contains(k);
    return x && x->is_number() ? x->to_number<int64_t>() : int64_t{0};
  };
  out->domain.source = config::DomainSource::kApi;
  out->domain.version = static_cast<uint64_t>(num("version"));
  out->verification_code = str("verification_code");
  out->created_ms = num("created_ms");
  out->updated_ms = num("updated_ms");
  bool deleted = o.contains("deleted") && o["deleted"].is_bool() && o["deleted"].as_bool();
  out->domain.state = deleted                     ? config::DomainState::kDeleted
                      : str("state") == "pending" ? config::DomainState::kPending
                                                  : config::DomainState::kActive;
  for (const char* k : {"deleted", "verification_code", "created_ms", "updated_ms"}) o.erase(k);
  return !ApplyDomainJson(o, DomainInput::kStored, out);
}

}  // namespace sw::control
