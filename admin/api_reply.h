// Owns the JSON replies and request-body checks shared by the provisioning endpoints:
// 400 bad JSON, 422 naming the field, 412 stale version. Fails by an HttpResponse.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <string>

#include "admin/http_message.h"
#include "common/status.h"
#include "control/field_error.h"

namespace sw::admin {

HttpResponse JsonReply(unsigned status, const boost::json::value& body);
// {"error": message, "field": field} (field omitted when empty).
HttpResponse FieldReply(unsigned status, const std::string& message, const std::string& field);
// 503 for a failed control store write: {"error": "control store unavailable"} (and
// Retry-After) when the store does not answer (kUnavailable, cluster mode), else the detail.
HttpResponse StoreWriteFailed(const Status& st);
HttpResponse Unprocessable(const control::FieldError& e);  // 422
HttpResponse NoContent();                                  // 204

// The request body as a JSON object; nullopt with `*err` = 400 when it is not one.
std::optional<boost::json::object> ParseObjectBody(const HttpRequest& req, HttpResponse* err);

// The version a write expects: If-Match ("N" or N) or the body's `version`; nullopt when
// neither is given. `*bad` is set (400/422) when one is malformed.
std::optional<uint64_t> ExpectedVersion(const HttpRequest& req, const boost::json::object& body,
                                        std::optional<HttpResponse>* bad);

// 412 when `expected` is set and differs from `current`.
std::optional<HttpResponse> CheckVersion(std::optional<uint64_t> expected, uint64_t current);

// A PATCH body checked against the object's `current` version (If-Match or `version`): the
// object, or nullopt with `*err` = 400, 422 or 412.
std::optional<boost::json::object> ParsePatch(const HttpRequest& req, uint64_t current,
                                              HttpResponse* err);

// Paging: `limit` query value in 1..max (default `def`); nullopt with *err = 400 when bad.
std::optional<size_t> LimitParam(const std::map<std::string, std::string>& query, size_t def,
                                 size_t max, HttpResponse* err);

}  // namespace sw::admin
