// Owns the provisioning endpoints for accounts: resellers, customers (with contacts), tokens
// and the audit log, each scoped to the caller's subtree. Fails by HTTP status + JSON error.
#pragma once

#include "admin/http_message.h"
#include "admin/route.h"
#include "control/control_plane.h"

namespace sw::admin {

class TenantApi {
 public:
  explicit TenantApi(control::ControlPlane& control) : control_(control) {}
  // kResellers, kReseller, kCustomers, kCustomer, kTokens, kToken, kAudit.
  HttpResponse Handle(const control::Principal& p, const HttpRequest& req, const Route& r);

 private:
  HttpResponse CreateReseller(const control::Principal& p, const HttpRequest& req);
  HttpResponse Reseller(const control::Principal& p, const HttpRequest& req, const Route& r);
  HttpResponse ListResellers(const control::Principal& p);
  HttpResponse CreateCustomer(const control::Principal& p, const HttpRequest& req);
  HttpResponse Customer(const control::Principal& p, const HttpRequest& req, const Route& r);
  HttpResponse ListCustomers(const control::Principal& p);
  HttpResponse CreateToken(const control::Principal& p, const HttpRequest& req);
  HttpResponse ListTokens(const control::Principal& p);
  HttpResponse RevokeToken(const control::Principal& p, const HttpRequest& req, const Route& r);
  HttpResponse Audit(const control::Principal& p, const Route& r);
  HttpResponse Commit(const control::Principal& p, const HttpRequest& req, control::Mutation m,
                      unsigned status, const boost::json::value& body);

  control::ControlPlane& control_;
};

}  // namespace sw::admin
