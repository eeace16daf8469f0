// Owns the JSON replies and request-body checks shared by the provisioning endpoints:
// 400 bad JSON, 422 naming the field, 412 stale version. Fails by an HttpResponse.
#include "admin/api_reply.h"

#include <charconv>

#include "common/json_text.h"

namespace sw::admin {

namespace json = boost::json;

HttpResponse JsonReply(unsigned status, const json::value& body) {
  HttpResponse r;
  r.status = status;
  r.body = json_text::Serialize(body);  // valid UTF-8, plain numbers (6, not 6E0)
  r.body.push_back('\n');
  return r;
}

HttpResponse FieldReply(unsigned status, const std::string& message, const std::string& field) {
  json::object o{{"error", message}};
  if (!field.empty()) o["field"] = field;
  return JsonReply(status, o);
}

HttpResponse StoreWriteFailed(const Status& st) {
  if (st.code() != Status::Code::kUnavailable)
    return FieldReply(503, "control store write failed: " + st.message(), "");
  HttpResponse r = FieldReply(503, "control store unavailable", "");
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

HttpResponse Unprocessable(const control::FieldError& e) {
  std::string msg = e.field.empty() ? e.message : e.field + ": " + e.message;
  return FieldReply(422, msg, e.field);
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

std::optional<json::object> ParseObjectBody(const HttpRequest& req, HttpResponse* err) {
  boost::system::error_code ec;
  json::parse_options opt;
  opt.max_depth = 16;
  json::value v = json::parse(req.body, ec, {}, opt);
  if (ec) {
    *err = FieldReply(400, "request body is not valid JSON: " + ec.message(), "");
    return std::nullopt;
  }
  if (!v.is_object()) {
    *err = FieldReply(400, "request body must be a JSON object", "");
    return std::nullopt;
  }
  return std::move(v.as_object());
}

namespace {
std::optional<uint64_t> ParseUint(std::string_view s) {
  uint64_t v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || res.ec != std::errc() || res.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

std::optional<uint64_t> ExpectedVersion(const HttpRequest& req, const json::object& body,
                                        std::optional<HttpResponse>* bad) {
  if (!req.if_match.empty()) {
    std::string_view m = req.if_match;
    if (m.size() >= 2 && m.front() == '"' && m.back() == '"') m = m.substr(1, m.size() - 2);
    if (m.rfind("W/", 0) == 0) m.remove_prefix(2);
    auto v = ParseUint(m);
    if (!v) *bad = FieldReply(400, "If-Match must be the object's version", "If-Match");
    return v;
  }
  auto* v = body.if_contains("version");
  if (!v) return std::nullopt;
  if (!v->is_int64() && !v->is_uint64()) {
    *bad = FieldReply(422, "version: must be a whole number", "version");
    return std::nullopt;
  }
  return v->to_number<uint64_t>();
}

std::optional<HttpResponse> CheckVersion(std::optional<uint64_t> expected, uint64_t current) {
  if (!expected || *expected == current) return std::nullopt;
  return FieldReply(
      412,
      "version " + std::to_string(*expected) + " is stale; current is " + std::to_string(current),
      "version");
}

std::optional<json::object> ParsePatch(const HttpRequest& req, uint64_t current,
                                       HttpResponse* err) {
  auto body = ParseObjectBody(req, err);
  if (!body) return std::nullopt;
  std::optional<HttpResponse> bad;
  auto expected = ExpectedVersion(req, *body, &bad);
  if (!bad) bad = CheckVersion(expected, current);
  if (bad) {
    *err = std::move(*bad);
    return std::nullopt;
  }
  return body;
}

std::optional<size_t> LimitParam(const std::map<std::string, std::string>& query, size_t def,
                                 size_t max, HttpResponse* err) {
  auto it = query.find("limit");
  if (it == query.end()) return def;
  auto v = ParseUint(it->second);
  if (!v || *v == 0) {
    *err = FieldReply(400, "limit must be a positive integer", "limit");
    return std::nullopt;
  }
  return *v > max ? max : static_cast<size_t>(*v);
}

}  // namespace sw::admin
