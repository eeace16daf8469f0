// Owns the provisioning endpoints for accounts: resellers, customers (with contacts), tokens
// and the audit log, each scoped to the caller's subtree. Fails by HTTP status + JSON error.
#include "admin/tenant_api.h"

#include "admin/api_reply.h"
#include "control/tenant_json.h"

namespace sw::admin {

namespace json = boost::json;
using control::Mutation;
using control::Principal;

namespace {

HttpResponse NotFound(const std::string& what) { return FieldReply(404, "no such " + what, ""); }
HttpResponse Forbidden(const std::string& why) { return FieldReply(403, why, ""); }

// A reseller's changed fields for the audit log (branding, plan, name as they are now).
json::object Changes(const json::object& in) {
  json::object out;
  for (const auto& [k, v] : in)
    if (k != "version") out[k] = k == "contacts" ? json::value("(updated)") : v;
  return out;
}

}  // namespace

HttpResponse TenantApi::Handle(const Principal& p, const HttpRequest& req, const Route& r) {
  const std::string& m = req.method;
  switch (r.endpoint) {
    case Endpoint::kResellers:
      return m == "POST" ? CreateReseller(p, req) : ListResellers(p);
    case Endpoint::kReseller:
      return Reseller(p, req, r);
    case Endpoint::kCustomers:
      return m == "POST" ? CreateCustomer(p, req) : ListCustomers(p);
    case Endpoint::kCustomer:
      return Customer(p, req, r);
    case Endpoint::kTokens:
      return m == "POST" ? CreateToken(p, req) : ListTokens(p);
    case Endpoint::kToken:
      return RevokeToken(p, req, r);
    case Endpoint::kAudit:
      return Audit(p, r);
    default:
      return NotFound("endpoint");
  }
}

HttpResponse TenantApi::Commit(const Principal& p, const HttpRequest& req, Mutation m,
                               unsigned status, const json::value& body) {
  Status st = control_.Apply(p, req.client_ip, std::move(m));
  if (!st.ok()) return StoreWriteFailed(st);
  if (status == 204) return NoContent();
  return JsonReply(status, body);
}

HttpResponse TenantApi::CreateReseller(const Principal& p, const HttpRequest& req) {
  if (!p.is_operator()) return Forbidden("only the operator creates resellers");
  HttpResponse err;
  auto body = ParseObjectBody(req, &err);
  if (!body) return err;
  control::Reseller r;
  if (auto e = control::ApplyResellerJson(*body, &r)) return Unprocessable(*e);
  r.id = control::ControlPlane::NewId("r_");
  r.created_ms = control::ControlPlane::NowMs();
  Mutation m;
  m.resellers.push_back(r);
  m.audit.push_back({"reseller.create", r.id, Changes(*body), r.id, ""});
  return Commit(p, req, std::move(m), 201, control::ResellerView(r));
}

HttpResponse TenantApi::ListResellers(const Principal& p) {
  if (p.is_customer()) return Forbidden("customers cannot list resellers");
  json::array out;
  for (const auto& [id, r] : control_.resellers())
    if (control_.SeesReseller(p, id)) out.push_back(control::ResellerView(r));
  return JsonReply(200, json::object{{"resellers", std::move(out)}});
}

HttpResponse TenantApi::Reseller(const Principal& p, const HttpRequest& req, const Route& r) {
  const control::Reseller* found = control_.FindReseller(r.id);
  if (!found || !control_.SeesReseller(p, r.id)) return NotFound("reseller");
  if (req.method == "GET") return JsonReply(200, control::ResellerView(*found));
  if (!p.is_operator()) return Forbidden("only the operator changes resellers");
  Mutation m;
  if (req.method == "DELETE") {
    if (control_.HasChildren(r.id))
      return FieldReply(409, "the reseller still has customers; delete them first", "");
    m.delete_resellers.push_back(r.id);
    m.audit.push_back({"reseller.delete", r.id, {}, r.id, ""});
    return Commit(p, req, std::move(m), 204, nullptr);
  }
  HttpResponse err;
  auto body = ParsePatch(req, found->version, &err);
  if (!body) return err;
  control::Reseller updated = *found;
  if (auto e = control::ApplyResellerJson(*body, &updated)) return Unprocessable(*e);
  ++updated.version;
  m.resellers.push_back(updated);
  m.audit.push_back({"reseller.update", r.id, Changes(*body), r.id, ""});
  return Commit(p, req, std::move(m), 200, control::ResellerView(updated));
}

HttpResponse TenantApi::CreateCustomer(const Principal& p, const HttpRequest& req) {
  if (p.is_customer()) return Forbidden("customers cannot create customers");
  HttpResponse err;
  auto body = ParseObjectBody(req, &err);
  if (!body) return err;
  control::Customer c;
  if (p.is_reseller()) {
    auto* given = body->if_contains("reseller");
    if (given && !(given->is_string() && given->as_string() == p.reseller))
      return Unprocessable({"reseller", "must be your own reseller ID (or left out)"});
    body->erase("reseller");
    c.reseller = p.reseller;
  }
  if (auto e = control::ApplyCustomerJson(*body, p.is_operator(), &c)) return Unprocessable(*e);
  if (!c.reseller.empty() && !control_.FindReseller(c.reseller))
    return Unprocessable({"reseller", "no such reseller"});
  c.id = control::ControlPlane::NewId("c_");
  c.created_ms = control::ControlPlane::NowMs();
  Mutation m;
  m.customers.push_back(c);
  m.audit.push_back({"customer.create", c.id, Changes(*body), c.reseller, c.id});
  return Commit(p, req, std::move(m), 201, control::CustomerView(c));
}

HttpResponse TenantApi::ListCustomers(const Principal& p) {
  json::array out;
  for (const auto& [id, c] : control_.customers())
    if (control_.SeesCustomer(p, id)) out.push_back(control::CustomerView(c));
  return JsonReply(200, json::object{{"customers", std::move(out)}});
}

HttpResponse TenantApi::Customer(const Principal& p, const HttpRequest& req, const Route& r) {
  const control::Customer* found = control_.FindCustomer(r.id);
  if (!found || !control_.SeesCustomer(p, r.id)) return NotFound("customer");
  if (req.method == "GET") return JsonReply(200, control::CustomerView(*found));
  Mutation m;
  if (req.method == "DELETE") {
    if (p.is_customer()) return Forbidden("customers cannot delete themselves");
    if (control_.HasChildren(r.id))
      return FieldReply(409, "the customer still has domains; delete them first", "");
    m.delete_customers.push_back(r.id);
    m.audit.push_back({"customer.delete", r.id, {}, found->reseller, r.id});
    return Commit(p, req, std::move(m), 204, nullptr);
  }
  HttpResponse err;
  auto body = ParsePatch(req, found->version, &err);
  if (!body) return err;
  control::Customer updated = *found;
  if (auto e = control::ApplyCustomerJson(*body, p.is_operator(), &updated))
    return Unprocessable(*e);
  if (!updated.reseller.empty() && !control_.FindReseller(updated.reseller))
    return Unprocessable({"reseller", "no such reseller"});
  ++updated.version;
  m.customers.push_back(updated);
  m.audit.push_back({"customer.update", r.id, Changes(*body), updated.reseller, r.id});
  return Commit(p, req, std::move(m), 200, control::CustomerView(updated));
}

HttpResponse TenantApi::CreateToken(const Principal& p, const HttpRequest& req) {
  HttpResponse err;
  auto body = ParseObjectBody(req, &err);
  if (!body) return err;
  control::Token t;
  t.account = p.account;
  t.role = control::Role::kAdmin;
  for (const auto& [k, v] : *body) {
    if (k == "account") {
      if (!v.is_string()) return Unprocessable({"account", "must be an account ID"});
      t.account = std::string(v.as_string());
    } else if (k == "role") {
      if (v != "admin" && v != "read") return Unprocessable({"role", "must be admin or read"});
      t.role = v == "admin" ? control::Role::kAdmin : control::Role::kRead;
    } else if (k == "name") {
      if (!v.is_string() || v.as_string().size() > 128)
        return Unprocessable({"name", "must be a string of at most 128 characters"});
      t.name = std::string(v.as_string());
    } else {
      return Unprocessable({std::string(k), "unknown field"});
    }
  }
  if (!control_.SeesAccount(p, t.account)) return NotFound("account");
  std::string text = control::ControlPlane::NewTokenText();
  t.id = control::ControlPlane::NewId("t_");
  t.hash = control::ControlPlane::HashToken(text);
  t.created_ms = control::ControlPlane::NowMs();
  const control::Customer* c = control_.FindCustomer(t.account);
  std::string reseller = c ? c->reseller : (t.account == control::kOperator ? "" : t.account);
  Mutation m;
  m.tokens.push_back(t);
  m.audit.push_back(
      {"token.create", t.id,
       json::object{{"account", t.account}, {"role", control::RoleName(t.role)}, {"name", t.name}},
       reseller, c ? c->id : ""});
  json::object view = control::TokenView(t);
  view["token"] = text;  // shown once
  return Commit(p, req, std::move(m), 201, view);
}

HttpResponse TenantApi::ListTokens(const Principal& p) {
  json::array out;
  for (const auto& [id, t] : control_.tokens())
    if (control_.SeesAccount(p, t.account)) out.push_back(control::TokenView(t));
  return JsonReply(200, json::object{{"tokens", std::move(out)}});
}

HttpResponse TenantApi::RevokeToken(const Principal& p, const HttpRequest& req, const Route& r) {
  const control::Token* t = control_.FindToken(r.id);
  if (!t || !control_.SeesAccount(p, t->account)) return NotFound("token");
  const control::Customer* c = control_.FindCustomer(t->account);
  std::string reseller = c ? c->reseller : (t->account == control::kOperator ? "" : t->account);
  Mutation m;
  m.delete_tokens.push_back(t->id);
  m.audit.push_back(
      {"token.revoke", t->id, json::object{{"account", t->account}}, reseller, c ? c->id : ""});
  return Commit(p, req, std::move(m), 204, nullptr);
}

HttpResponse TenantApi::Audit(const Principal& p, const Route& r) {
  HttpResponse err;
  auto limit = LimitParam(r.query, 100, 1000, &err);
  if (!limit) return err;
  std::string order = "oldest";
  if (auto it = r.query.find("order"); it != r.query.end() && !it->second.empty())
    order = it->second;
  if (order != "oldest" && order != "newest")
    return FieldReply(422, "order must be oldest or newest", "order");
  // Oldest first pages with `after`, newest first with `before`: `next` is the other's value.
  const char* cursor_key = order == "newest" ? "before" : "after";
  const char* wrong_key = order == "newest" ? "after" : "before";
  if (auto it = r.query.find(wrong_key); it != r.query.end() && !it->second.empty())
    return FieldReply(422,
                      std::string(wrong_key) + " pages order=" +
                          (order == "newest" ? "oldest" : "newest") + "; use " + cursor_key,
                      wrong_key);
  uint64_t seq = 0;
  if (auto it = r.query.find(cursor_key); it != r.query.end() && !it->second.empty()) {
    char* end = nullptr;
    seq = std::strtoull(it->second.c_str(), &end, 10);
    if (*end != '\0' || it->second[0] == '-')
      return FieldReply(400, std::string(cursor_key) + " must be an audit seq", cursor_key);
  }
  control::AuditCursor from = order == "newest" ? control::AuditCursor::Before(seq) : seq;
  std::vector<json::object> rows;
  Status st = control_.ReadAudit(p, from, *limit + 1, &rows);
  if (!st.ok()) return FieldReply(503, "audit read failed: " + st.message(), "");
  bool more = rows.size() > *limit;
  if (more) rows.resize(*limit);
  json::array entries;
  for (auto& e : rows) entries.push_back(std::move(e));
  json::value next = nullptr;
  if (more && !entries.empty()) next = entries.back().as_object().at("seq");
  return JsonReply(200, json::object{{"entries", std::move(entries)}, {"next", next}});
}

}  // namespace sw::admin
