// Owns the CLI's HTTP/1.1 client for the admin API: one kept-alive connection, bearer token.
// Fails by HttpResult (transport error text, or the HTTP status and body); never throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sw::admin {

struct HttpResult {
  bool ok = false;      // a response arrived (any status)
  unsigned status = 0;  // HTTP status when ok
  std::string body;
  std::string error;                                         // transport problem when !ok
  std::vector<std::pair<std::string, std::string>> headers;  // response fields, as sent
  // The first response field named `name` (case-insensitive), "" when absent.
  std::string Header(std::string_view name) const;
};

// An optional JSON body and extra request fields (If-Match, ...).
struct HttpCallOptions {
  std::string body;  // sent with Content-Type: application/json when not empty
  std::vector<std::pair<std::string, std::string>> headers;
};

// Blocking calls (it runs its own io_context); each call has `timeout` overall.
class HttpClient {
 public:
  // `host` is an IP address; `token` empty sends no Authorization header.
  HttpClient(std::string host, uint16_t port, std::string token,
             std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Reuses the connection; a reused connection the server closed meanwhile is reopened once.
  HttpResult Call(std::string_view method, const std::string& target);
  HttpResult Call(std::string_view method, const std::string& target,
                  const HttpCallOptions& options);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// %-encodes a path segment or query value (unreserved characters kept as they are).
std::string UrlEncode(std::string_view s);

}  // namespace sw::admin
