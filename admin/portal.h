// Owns the portal's HTTP side (SPEC section 12): the embedded single-page app at `/`, branding by
// Host or by the signed-in account, sign-in/out with a session cookie, and the cookie
// authentication of /api calls with its CSRF check.
// Fails by HTTP status with a JSON {"error", "field"?} body; nothing throws.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <variant>

#include "admin/http_message.h"
#include "admin/portal_sessions.h"
#include "config/config.h"
#include "control/control_plane.h"

namespace sw::admin {

class Portal {
 public:
  using ConfigFn = std::function<std::shared_ptr<const config::Config>()>;
  // `control` may be null (queue-only API): then only the operator token signs in.
  Portal(ConfigFn config, control::ControlPlane* control);

  // True for the paths the portal serves: "/", "/portal/...".
  static bool Owns(std::string_view path);
  HttpResponse Handle(const HttpRequest& req);

  // For an /api request without an Authorization header: the session's principal, or the error
  // (401 expired/unknown session, 403 missing or wrong CSRF token on a write); nullopt when the
  // request carries no session cookie.
  std::optional<std::variant<control::Principal, HttpResponse>> Authenticate(
      const HttpRequest& req);

 private:
  HttpResponse Page(const HttpRequest& req);
  HttpResponse Asset(std::string_view path);
  HttpResponse SignIn(const HttpRequest& req);
  HttpResponse SignOut(const HttpRequest& req);
  HttpResponse Current(const HttpRequest& req);
  // The live session of the request's cookie (token still valid), else nullopt.
  std::optional<PortalSession> Session(const HttpRequest& req);
  boost::json::object Brand(const std::string& host, const control::Principal* who) const;

  ConfigFn config_;
  control::ControlPlane* control_;
  PortalSessions sessions_;
};

}  // namespace sw::admin
