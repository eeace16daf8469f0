// Owns resellers, customers and tokens as JSON: API input validated field by field, API
// views (secrets masked), and the stored form. Fails by FieldError naming the field.
#include "control/tenant_json.h"

#include <ctime>

namespace sw::control {

namespace json = boost::json;

std::string IsoTime(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const char* RoleName(Role r) { return r == Role::kAdmin ? "admin" : "read"; }

namespace {

constexpr size_t kMaxText = 512;
constexpr size_t kMaxContacts = 50;

MaybeError Text(const json::value& v, const std::string& field, std::string* out) {
  if (!v.is_string()) return FieldError{field, "must be a string"};
  if (v.as_string().size() > kMaxText)
    return FieldError{field, "longer than " + std::to_string(kMaxText) + " characters"};
  for (unsigned char c : v.as_string())
    if (c < 0x20 || c == 0x7f) return FieldError{field, "must not contain control characters"};
  *out = std::string(v.as_string());
  return std::nullopt;
}

MaybeError Branding_(const json::value& v, Branding* b) {
  if (!v.is_object()) return FieldError{"branding", "must be an object"};
  for (const auto& [k, val] : v.as_object()) {
    std::string f = "branding." + std::string(k);
    std::string* target = k == "product_name"      ? &b->product_name
                          : k == "logo_url"        ? &b->logo_url
                          : k == "primary_color"   ? &b->primary_color
                          : k == "alert_from"      ? &b->alert_from
                          : k == "alert_from_name" ? &b->alert_from_name
                          : k == "support_email"   ? &b->support_email
                          : k == "portal_host"     ? &b->portal_host
                                                   : nullptr;
    if (!target) return FieldError{f, "unknown field"};
    if (auto e = Text(val, f, target)) return e;
  }
  if (!b->primary_color.empty()) {
    const std::string& c = b->primary_color;
    bool ok = c.size() == 7 && c[0] == '#';
    for (size_t i = 1; ok && i < c.size(); ++i)
      ok = std::isxdigit(static_cast<unsigned char>(c[i]));
    if (!ok) return FieldError{"branding.primary_color", "must be #rrggbb"};
  }
  if (!b->logo_url.empty() && b->logo_url.rfind("https://", 0) != 0 && b->logo_url[0] != '/')
    return FieldError{"branding.logo_url", "must be an https:// URL or a path"};
  return std::nullopt;
}

MaybeError Contact_(const json::value& v, const std::string& f, Contact* c) {
  if (!v.is_object()) return FieldError{f, "must be an object"};
  for (const auto& [k, val] : v.as_object()) {
    std::string ff = f + "." + std::string(k);
    if (k == "events") {
      if (!val.is_array()) return FieldError{ff, "must be a list"};
      c->events.clear();
      for (const auto& ev : val.as_array()) {
        if (!ev.is_string() ||
            (ev != "down" && ev != "up" && ev != "still_down" && ev != "queue_age"))
          return FieldError{ff, "events are down, up, still_down, queue_age"};
        c->events.emplace_back(ev.as_string());
      }
      continue;
    }
    std::string* target = k == "name"             ? &c->name
                          : k == "email"          ? &c->email
                          : k == "phone"          ? &c->phone
                          : k == "webhook"        ? &c->webhook
                          : k == "webhook_secret" ? &c->webhook_secret
                                                  : nullptr;
    if (!target) return FieldError{ff, "unknown field"};
    if (auto e = Text(val, ff, target)) return e;
  }
  if (!c->email.empty() && c->email.find('@') == std::string::npos)
    return FieldError{f + ".email", "not an email address"};
  if (!c->webhook.empty() && c->webhook.rfind("https://", 0) != 0 &&
      c->webhook.rfind("http://", 0) != 0)
    return FieldError{f + ".webhook", "must be an http(s):// URL"};
  return std::nullopt;
}

}  // namespace

MaybeError ApplyResellerJson(const json::object& in, Reseller* out) {
  for (const auto& [k, v] : in) {
    if (k == "name") {
      if (auto e = Text(v, "name", &out->name)) return e;
      if (out->name.empty()) return FieldError{"name", "must not be empty"};
    } else if (k == "plan") {
      if (!v.is_object()) return FieldError{"plan", "must be an object"};
      for (const auto& [pk, pv] : v.as_object()) {
        if (pk != "max_domains") return FieldError{"plan." + std::string(pk), "unknown field"};
        if (!pv.is_int64() && !pv.is_uint64())
          return FieldError{"plan.max_domains", "must be a whole number"};
        // Above INT64_MAX Boost.JSON holds a uint64 (to_number<int64_t> would throw).
        if (const uint64_t* big = pv.if_uint64()) {
          out->max_domains = *big;
          continue;
        }
        int64_t n = pv.get_int64();
        if (n < 0) return FieldError{"plan.max_domains", "must not be negative"};
        out->max_domains = static_cast<uint64_t>(n);
      }
    } else if (k == "branding") {
      if (auto e = Branding_(v, &out->branding)) return e;
    } else if (k == "version" || k == "id" || k == "created_at") {
      // read-only (a GET's body may come back); `version` is checked by the caller
    } else {
      return FieldError{std::string(k), "unknown field"};
    }
  }
  if (out->name.empty()) return FieldError{"name", "required"};
  return std::nullopt;
}

MaybeError ApplyCustomerJson(const json::object& in, bool may_set_reseller, Customer* out) {
  for (const auto& [k, v] : in) {
    if (k == "name") {
      if (auto e = Text(v, "name", &out->name)) return e;
      if (out->name.empty()) return FieldError{"name", "must not be empty"};
    } else if (k == "reseller") {
      if (!may_set_reseller) return FieldError{"reseller", "only the operator sets it"};
      if (v.is_null()) {
        out->reseller.clear();
      } else if (auto e = Text(v, "reseller", &out->reseller)) {
        return e;
      }
    } else if (k == "contacts") {
      if (!v.is_array()) return FieldError{"contacts", "must be a list"};
      if (v.as_array().size() > kMaxContacts)
        return FieldError{"contacts", "at most " + std::to_string(kMaxContacts)};
      std::vector<Contact> contacts;
      for (size_t i = 0; i < v.as_array().size(); ++i) {
        Contact c;
        if (auto e = Contact_(v.as_array()[i], "contacts[" + std::to_string(i) + "]", &c)) return e;
        // "***" keeps the stored secret of the contact at the same position.
        if (c.webhook_secret == "***")
          c.webhook_secret = i < out->contacts.size() ? out->contacts[i].webhook_secret : "";
        contacts.push_back(std::move(c));
      }
      out->contacts = std::move(contacts);
    } else if (k == "version" || k == "id" || k == "created_at") {
    } else {
      return FieldError{std::string(k), "unknown field"};
    }
  }
  if (out->name.empty()) return FieldError{"name", "required"};
  return std::nullopt;
}

json::object ResellerView(const Reseller& r) {
  const Branding& b = r.branding;
  return {{"id", r.id},
          {"name", r.name},
          {"plan", {{"max_domains", r.max_domains}}},
          {"branding",
           {{"product_name", b.product_name},
            {"logo_url", b.logo_url},
            {"primary_color", b.primary_color},
            {"alert_from", b.alert_from},
            {"alert_from_name", b.alert_from_name},
            {"support_email", b.support_email},
            {"portal_host", b.portal_host}}},
          {"version", r.version},
          {"created_at", IsoTime(r.created_ms)}};
}

namespace {
json::object ContactJson(const Contact& c, bool mask) {
  json::array events;
  for (const auto& e : c.events) events.emplace_back(e);
  std::string secret = mask && !c.webhook_secret.empty() ? "***" : c.webhook_secret;
  return {{"name", c.name},       {"email", c.email},         {"phone", c.phone},
          {"webhook", c.webhook}, {"webhook_secret", secret}, {"events", std::move(events)}};
}
json::object CustomerJson(const Customer& c, bool mask) {
  json::array contacts;
  for (const auto& k : c.contacts) contacts.emplace_back(ContactJson(k, mask));
  json::object o{{"id", c.id},
                 {"name", c.name},
                 {"contacts", std::move(contacts)},
                 {"version", c.version},
                 {"created_at", IsoTime(c.created_ms)},
                 {"created_ms", c.created_ms}};
  if (c.reseller.empty()) {
    o["reseller"] = nullptr;
  } else {
    o["reseller"] = c.reseller;
  }
  return o;
}
}  // namespace

json::object CustomerView(const Customer& c) {
  auto o = CustomerJson(c, true);
  o.erase("created_ms");
  return o;
}

json::object TokenView(const Token& t) {
  json::object o{{"id", t.id},
                 {"account", t.account},
                 {"role", RoleName(t.role)},
                 {"name", t.name},
                 {"created_at", IsoTime(t.created_ms)}};
  if (t.last_used_ms) {
    o["last_used_at"] = IsoTime(t.last_used_ms);
  } else {
    o["last_used_at"] = nullptr;
  }
  return o;
}

std::string StoreReseller(const Reseller& r) {
  auto o = ResellerView(r);
  o["created_ms"] = r.created_ms;
  return json::serialize(o);
}

std::string StoreCustomer(const Customer& c) { return json::serialize(CustomerJson(c, false)); }

std::string StoreToken(const Token& t) {
  return json::serialize(json::object{{"id", t.id},
                                      {"account", t.account},
                                      {"role", RoleName(t.role)},
                                      {"name", t.name},
                                      {"hash", t.hash},
                                      {"created_ms", t.created_ms},
                                      {"last_used_ms", t.last_used_ms}});
}

namespace {
std::optional<json::object> ParseObject(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}
std::string Str(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}
int64_t Int(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v && v->is_number() ? v->to_number<int64_t>() : 0;
}
}  // namespace

// The stored record's metadata (id, version, creation time) into `rec`; the rest of the
// object, for the same validator the API uses.
template <typename Record>
std::optional<json::object> SplitStored(const std::string& text, Record* rec) {
  auto o = ParseObject(text);
  if (!o) return std::nullopt;
  rec->id = Str(*o, "id");
  rec->version = static_cast<uint64_t>(Int(*o, "version"));
  rec->created_ms = Int(*o, "created_ms");
  for (const char* k : {"id", "version", "created_at", "created_ms"}) o->erase(k);
  return o;
}

bool LoadReseller(const std::string& text, Reseller* out) {
  auto in = SplitStored(text, out);
  return in && !ApplyResellerJson(*in, out) && !out->id.empty();
}

bool LoadCustomer(const std::string& text, Customer* out) {
  auto in = SplitStored(text, out);
  return in && !ApplyCustomerJson(*in, true, out) && !out->id.empty();
}

bool LoadToken(const std::string& text, Token* out) {
  auto o = ParseObject(text);
  if (!o) return false;
  out->id = Str(*o, "id");
  out->account = Str(*o, "account");
  out->role = Str(*o, "role") == "admin" ? Role::kAdmin : Role::kRead;
  out->name = Str(*o, "name");
  out->hash = Str(*o, "hash");
  out->created_ms = Int(*o, "created_ms");
  out->last_used_ms = Int(*o, "last_used_ms");
  return !out->id.empty() && out->hash.size() == 64;
}

}  // namespace sw::control
