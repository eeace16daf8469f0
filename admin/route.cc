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

bool IsDomainAction(const std::string& a) {
  return a == "flush" || a == "hold" || a == "release" || a == "delete" || a == "bounce";
}

std::string DomainName(std::string s) {
  s = Lower(std::move(s));
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// /api/v1/{resellers,customers,tokens}[/{id}], /api/v1/domains[:batch][/{name}[/status|verify]],
// /api/v1/customers/{id}/contacts/test, /api/v1/{audit,alerts,usage}, /api/v1/cluster/nodes.
void MatchProvisioning(const std::vector<std::string>& seg, Route& route) {
  const size_t n = seg.size();
  const std::string& kind = seg[2];
  if (n == 3) {
    if (kind == "resellers") route.endpoint = Endpoint::kResellers;
    if (kind == "customers") route.endpoint = Endpoint::kCustomers;
    if (kind == "domains") route.endpoint = Endpoint::kDomains;
    if (kind == "domains:batch") route.endpoint = Endpoint::kDomainsBatch;
    if (kind == "tokens") route.endpoint = Endpoint::kTokens;
    if (kind == "audit") route.endpoint = Endpoint::kAudit;
    if (kind == "alerts") route.endpoint = Endpoint::kAlerts;
    if (kind == "usage") route.endpoint = Endpoint::kUsage;
    return;
  }
  if (seg[3].empty()) return;
  if (n == 4) {
    route.id = seg[3];
    if (kind == "resellers") route.endpoint = Endpoint::kReseller;
    if (kind == "customers") route.endpoint = Endpoint::kCustomer;
    if (kind == "tokens") route.endpoint = Endpoint::kToken;
    if (kind == "domains") {
      route.endpoint = Endpoint::kDomain;
      route.id = route.domain = DomainName(seg[3]);
    }
    if (kind == "cluster" && seg[3] == "nodes") route.endpoint = Endpoint::kClusterNodes;
  } else if (n == 5 && kind == "domains") {
    route.id = route.domain = DomainName(seg[3]);
    if (seg[4] == "status") route.endpoint = Endpoint::kDomainStatus;
    if (seg[4] == "verify") route.endpoint = Endpoint::kDomainVerify;
  } else if (n == 6 && kind == "customers" && seg[4] == "contacts" && seg[5] == "test") {
    route.id = seg[3];
    route.endpoint = Endpoint::kContactsTest;
  }
}

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
  } else if (n >= 3 && seg[0] == "api" && seg[1] == "v1") {
    MatchProvisioning(seg, route);
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
    case Endpoint::kDomainsBatch:
    case Endpoint::kDomainVerify:
    case Endpoint::kContactsTest:
      return "POST";
    case Endpoint::kResellers:
    case Endpoint::kCustomers:
    case Endpoint::kDomains:
    case Endpoint::kTokens:
      return "GET, POST";
    case Endpoint::kReseller:
    case Endpoint::kCustomer:
    case Endpoint::kDomain:
      return "GET, PATCH, DELETE";
    case Endpoint::kToken:
      return "DELETE";
    case Endpoint::kDomainStatus:
    case Endpoint::kAudit:
    case Endpoint::kAlerts:
    case Endpoint::kUsage:
    case Endpoint::kClusterNodes:
      return "GET";
    case Endpoint::kUnknown:
      return "";
  }
  return "";
}

bool MethodAllowed(Endpoint e, std::string_view method) {
  std::string_view allowed = AllowedMethods(e);
  if (method.empty() || method.find(',') != std::string_view::npos) return false;
  for (size_t pos = 0; pos < allowed.size();) {
    size_t end = allowed.find(", ", pos);
    if (end == std::string_view::npos) end = allowed.size();
    if (allowed.substr(pos, end - pos) == method) return true;
    pos = end + 2;
  }
  return false;
}

}  // namespace sw::admin
