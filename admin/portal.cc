// Owns the portal's HTTP side (SPEC section 12): the embedded single-page app at `/`, branding by
// Host or by the signed-in account, sign-in/out with a session cookie, and the cookie
// authentication of /api calls with its CSRF check.
// Fails by HTTP status with a JSON {"error", "field"?} body; nothing throws.
#include "admin/portal.h"

#include <openssl/crypto.h>

#include <boost/json.hpp>
#include <cctype>

#include "admin/bearer_auth.h"
#include "admin/portal_assets.h"
#include "common/html_text.h"
#include "common/json_text.h"
#include "common/log.h"

namespace sw::admin {

namespace json = boost::json;

namespace {

constexpr std::string_view kDefaultColor = "#2563eb";
// Everything from this origin only; no inline script; framing refused.
constexpr std::string_view kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

HttpResponse JsonReply(unsigned status, const json::object& body) {
  HttpResponse r;
  r.status = status;
  r.body = json_text::Serialize(body) + "\n";
  return r;
}

HttpResponse Error(unsigned status, std::string_view message, std::string_view field = {}) {
  json::object o{{"error", message}};
  if (!field.empty()) o["field"] = field;
  return JsonReply(status, o);
}

void Harden(HttpResponse& r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(kCsp));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

bool ValidColor(const std::string& c) {
  if (c.size() != 4 && c.size() != 7) return false;
  if (c[0] != '#') return false;
  for (size_t i = 1; i < c.size(); ++i)
    if (!std::isxdigit(static_cast<unsigned char>(c[i]))) return false;
  return true;
}

std::string HostName(std::string host) {
  if (!host.empty() && host[0] == '[') return host;  // IPv6 literal: never a portal_host
  if (size_t colon = host.find(':'); colon != std::string::npos) host.resize(colon);
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return host;
}

std::string Path(const std::string& target) { return target.substr(0, target.find('?')); }

// JSON safe inside an HTML data block: no "<" (so no "</script>"), no "&".
std::string JsonForHtml(const json::object& o) {
  std::string out;
  for (char c : json_text::Serialize(o)) {
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else
      out.push_back(c);
  }
  return out;
}

json::object PrincipalJson(const control::Principal& p) {
  const char* kind = p.is_operator() ? "operator" : p.is_reseller() ? "reseller" : "customer";
  return {{"account", p.account},
          {"kind", kind},
          {"role", control::RoleName(p.role)},
          {"reseller", p.reseller},
          {"customer", p.customer}};
}

}  // namespace

Portal::Portal(ConfigFn config, control::ControlPlane* control)
    : config_(std::move(config)), control_(control) {}

bool Portal::Owns(std::string_view path) {
  path = path.substr(0, path.find('?'));
  return path == "/" || path == "/index.html" || path.rfind("/portal/", 0) == 0;
}

json::object Portal::Brand(const std::string& host, const control::Principal* who) const {
  std::string reseller_id;
  auto tenants = control_ ? control_->Tenants() : nullptr;
  if (who) {
    reseller_id = who->reseller;
  } else if (tenants) {
    std::string h = HostName(host);
    for (const auto& [id, r] : tenants->resellers)
      if (!h.empty() && HostName(r.branding.portal_host) == h) reseller_id = id;
  }
  json::object b;
  if (tenants && !reseller_id.empty() && tenants->resellers.count(reseller_id)) {
    const control::Reseller& r = tenants->resellers.at(reseller_id);
    const control::Branding& br = r.branding;
    b["product_name"] = br.product_name.empty() ? r.name : br.product_name;
    b["logo_url"] = br.logo_url;
    b["primary_color"] = ValidColor(br.primary_color) ? br.primary_color : kDefaultColor;
    b["support_email"] = br.support_email;
    b["reseller"] = reseller_id;
    return b;
  }
  auto cfg = config_();
  const config::AlertBrand& ob = cfg->alerts.brand;
  b["product_name"] = ob.product_name;
  b["logo_url"] = ob.logo_url;
  b["primary_color"] = kDefaultColor;
  b["support_email"] = ob.support_email;
  b["reseller"] = nullptr;
  return b;
}

std::optional<PortalSession> Portal::Session(const HttpRequest& req) {
  std::string id = PortalSessions::CookieValue(req.cookie, kPortalCookie);
  auto s = sessions_.Find(id);
  if (!s) return std::nullopt;
  // The token it was opened with must still be valid (revoked: the session ends with it).
  bool valid;
  if (s->principal.is_operator() && s->principal.token_id == "operator") {
    auto cfg = config_();
    valid = CheckBearer("Bearer " + cfg->admin.token, cfg->admin.token) == AuthResult::kOk &&
            control::ControlPlane::HashToken(cfg->admin.token) == s->token_hash;
  } else {
    auto p = control_ ? control_->PrincipalForTokenHash(s->token_hash) : std::nullopt;
    valid = p.has_value();
    if (p) s->principal = *p;
  }
  if (!valid) {
    sessions_.End(id);
    return std::nullopt;
  }
  return s;
}

std::optional<std::variant<control::Principal, HttpResponse>> Portal::Authenticate(
    const HttpRequest& req) {
  if (PortalSessions::CookieValue(req.cookie, kPortalCookie).empty()) return std::nullopt;
  auto s = Session(req);
  if (!s) return Error(401, "session expired or signed out; sign in again");
  bool safe = req.method == "GET" || req.method == "HEAD";
  if (!safe && !ConstantTimeEquals(req.csrf, s->csrf)) {
    log::Warn("portal_csrf_refused").kv("target", req.target).kv("client", req.client_ip);
    return Error(403, "missing or wrong CSRF token", "X-CSRF-Token");
  }
  return s->principal;
}

HttpResponse Portal::Handle(const HttpRequest& req) {
  std::string path = Path(req.target);
  if (path == "/portal/session") {
    if (req.method == "GET") return Current(req);
    if (req.method == "POST") return SignIn(req);
    if (req.method == "DELETE") return SignOut(req);
    auto r = Error(405, "method " + req.method + " not allowed");
    r.headers.emplace_back("Allow", "GET, POST, DELETE");
    return r;
  }
  if (req.method != "GET" && req.method != "HEAD") {
    auto r = Error(405, "method " + req.method + " not allowed");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (path == "/portal/brand") {
    auto s = Session(req);
    return JsonReply(200, Brand(req.host, s ? &s->principal : nullptr));
  }
  if (path == "/" || path == "/index.html") return Page(req);
  if (path.rfind("/portal/assets/", 0) == 0) return Asset(path.substr(15));
  return Error(404, "no such page");
}

HttpResponse Portal::Page(const HttpRequest& req) {
  const PortalAsset* a = FindPortalAsset("index.html");
  if (!a) return Error(500, "portal assets missing from this build");
  auto s = Session(req);
  json::object brand = Brand(req.host, s ? &s->principal : nullptr);
  std::string html(a->data, a->size);
  auto replace = [&html](std::string_view key, const std::string& value) {
    for (size_t pos; (pos = html.find(key)) != std::string::npos;)
      html.replace(pos, key.size(), value);
  };
  replace("{{title}}", HtmlEscape(json::value_to<std::string>(brand["product_name"])));
  replace("{{brand}}", JsonForHtml(brand));
  HttpResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(html);
  Harden(r);
  return r;
}

HttpResponse Portal::Asset(std::string_view name) {
  const PortalAsset* a = name == "index.html" ? nullptr : FindPortalAsset(name);
  if (!a) return Error(404, "no such asset");
  HttpResponse r;
  r.content_type = a->content_type;
  r.body.assign(a->data, a->size);
  Harden(r);
  return r;
}

HttpResponse Portal::Current(const HttpRequest& req) {
  auto s = Session(req);
  if (!s) return Error(401, "not signed in");
  return JsonReply(200, {{"principal", PrincipalJson(s->principal)},
                         {"csrf", s->csrf},
                         {"mx_host", config_()->server.hostname},
                         {"brand", Brand(req.host, &s->principal)}});
}

HttpResponse Portal::SignIn(const HttpRequest& req) {
  // JSON only: a cross-site HTML form cannot send it without a CORS preflight we never allow.
  if (req.content_type.rfind("application/json", 0) != 0)
    return Error(415, "sign in with a JSON body {\"token\": ...}", "Content-Type");
  if (unsigned wait = sessions_.SignInWait(req.client_ip)) {
    auto r = Error(429, "too many failed sign-ins from this address; try again later");
    r.headers.emplace_back("Retry-After", std::to_string(wait));
    return r;
  }
  std::string token;
  boost::system::error_code ec;
  json::value body = json::parse(req.body, ec);
  if (!ec && body.is_object() && body.as_object().contains("token") &&
      body.as_object().at("token").is_string())
    token = json::value_to<std::string>(body.as_object().at("token"));
  if (token.empty()) return Error(422, "token is required", "token");
  auto cfg = config_();
  std::optional<control::Principal> who;
  if (CheckBearer("Bearer " + token, cfg->admin.token) == AuthResult::kOk) {
    who = control::ControlPlane::OperatorPrincipal();
  } else if (control_ && token.rfind("sw_", 0) == 0) {
    who = control_->Authenticate(token);
  }
  if (!who) {
    sessions_.SignInFailed(req.client_ip);
    log::Warn("portal_signin_failed").kv("client", req.client_ip);
    return Error(401, "unknown or revoked token", "token");
  }
  PortalSession s{*who, control::ControlPlane::HashToken(token),
                  control::ControlPlane::RandomUrlSafe(32)};
  std::string csrf = s.csrf;
  std::string cookie = sessions_.Create(std::move(s));
  log::Info("portal_signin").kv("account", who->account).kv("client", req.client_ip);
  auto r = JsonReply(200, {{"principal", PrincipalJson(*who)},
                           {"csrf", csrf},
                           {"mx_host", cfg->server.hostname},
                           {"brand", Brand(req.host, &*who)}});
  r.headers.emplace_back("Set-Cookie", std::string(kPortalCookie) + "=" + cookie +
                                           "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                           std::to_string(kPortalSessionMax.count() * 3600) +
                                           (req.secure ? "; Secure" : ""));
  return r;
}

HttpResponse Portal::SignOut(const HttpRequest& req) {
  auto s = Session(req);
  if (s && !ConstantTimeEquals(req.csrf, s->csrf))
    return Error(403, "missing or wrong CSRF token", "X-CSRF-Token");
  sessions_.End(PortalSessions::CookieValue(req.cookie, kPortalCookie));
  HttpResponse r;
  r.status = 204;
  r.headers.emplace_back("Set-Cookie", std::string(kPortalCookie) +
                                           "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                           (req.secure ? "; Secure" : ""));
  return r;
}

}  // namespace sw::admin
