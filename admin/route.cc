// Owns the admin API's URL map: request targets to endpoints with their IDs and query.
// Fails by value: a target that matches no endpoint is kUnknown; bad %-escapes are an error.
#include "admin/route.h"

#include <vector>

namespace sw::admin {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool IsMessageAction(const std::string& a) {
  return a == "flush" || a == "hold" || a == "release" || a == "bounce";
}

bool IsDomainAction(const std::string& a) { return a == "flush" || a == "hold" || a == "release"; }

}  // namespace

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<Route> ParseRoute(std::string_view target, std::string* error) {
  if (target.empty() || target.front() != '/') {
    *error = "request target must be a path";
    return std::nullopt;
  }
  Route route;
  std::string_view path = target, query;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (size_t h = query.find('#'); h != std::string_view::npos) query = query.substr(0, h);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto key = PercentDecode(part.substr(0, eq), true);
    auto value = PercentDecode(
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1), true);
    if (!key || !value) {
      *error = "malformed %-escape in query";
      return std::nullopt;
    }
    route.query[*key] = *value;
  }
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string> seg;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    auto decoded = PercentDecode(path.substr(pos, slash - pos), false);
    if (!decoded) {
      *error = "malformed %-escape in path";
      return std::nullopt;
    }
    seg.push_back(std::move(*decoded));
    pos = slash + 1;
  }
  route.api = !seg.empty() && seg[0] == "api";
  const size_t n = seg.size();
  if (n == 1 && seg[0] == "healthz") {
    route.endpoint = Endpoint::kHealthz;
  } else if (n == 1 && seg[0] == "metrics") {
    route.endpoint = Endpoint::kMetrics;
  } else if (n >= 3 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "queue") {
    if (n == 3) {
      route.endpoint = Endpoint::kQueueList;
    } else if (n == 4 && seg[3] == "summary") {
      route.endpoint = Endpoint::kQueueSummary;
    } else if (n == 4 && !seg[3].empty()) {
      route.endpoint = Endpoint::kMessage;
      route.id = seg[3];
    } else if (n == 5 && !seg[3].empty() && IsMessageAction(seg[4])) {
      route.endpoint = Endpoint::kMessageAction;
      route.id = seg[3];
      route.action = seg[4];
    }
  } else if (n == 5 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "domains" &&
             !seg[3].empty() && IsDomainAction(seg[4])) {
    route.endpoint = Endpoint::kDomainAction;
    route.domain = Lower(seg[3]);
    if (!route.domain.empty() && route.domain.back() == '.') route.domain.pop_back();
    route.action = seg[4];
  }
  return route;
}

const char* AllowedMethods(Endpoint e) {
  switch (e) {
    case Endpoint::kHealthz:
    case Endpoint::kMetrics:
    case Endpoint::kQueueList:
    case Endpoint::kQueueSummary:
      return "GET";
    case Endpoint::kMessage:
      return "GET, DELETE";
    case Endpoint::kMessageAction:
    case Endpoint::kDomainAction:
      return "POST";
    case Endpoint::kUnknown:
      return "";
  }
  return "";
}

bool MethodAllowed(Endpoint e, std::string_view method) {
  switch (e) {
    case Endpoint::kMessage:
      return method == "GET" || method == "DELETE";
    case Endpoint::kMessageAction:
    case Endpoint::kDomainAction:
      return method == "POST";
    case Endpoint::kUnknown:
      return false;
    default:
      return method == "GET";
  }
}

}  // namespace sw::admin
