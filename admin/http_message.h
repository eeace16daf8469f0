// Owns the plain request/response values passed between the admin HTTP server and its handler.
// Plain data; nothing here fails.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sw::admin {

struct HttpRequest {
  std::string method;         // "GET", "POST", ... as sent
  std::string target;         // "/api/v1/queue?limit=10"
  std::string authorization;  // value of the Authorization header, "" when absent
  std::string if_match;       // If-Match, "" when absent
  std::string host;           // Host
  std::string cookie;         // Cookie
  std::string content_type;   // Content-Type
  std::string csrf;           // X-CSRF-Token (portal writes)
  std::string client_ip;      // the peer's address
  bool secure = false;        // arrived over TLS (admin.tls): cookies get `Secure`
  std::string body;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra fields (Allow, ...)
  std::string body;
};

}  // namespace sw::admin
