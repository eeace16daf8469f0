// Owns the rspamd scanner: one message -> POST /checkv2 with the SMTP envelope -> FilterResult.
// Fails by value: connection errors, HTTP errors, bad JSON and timeouts give kFailed/kTimeout.
#pragma once

#include <memory>

#include "common/asio_http_client.h"
#include "filters/filter.h"

namespace sw::filters {

class RspamdFilter : public Filter {
 public:
  explicit RspamdFilter(const config::RspamdConfig& config);
  std::string_view name() const override { return "rspamd"; }
  FilterSettings Settings(const config::FiltersConfig& config) const override;
  // URL and timeout come from request.config (a reload may change them).
  boost::asio::awaitable<FilterResult> Scan(const ScanRequest& request) override;
  void Stop() override { http_.Stop(); }

  // The HTTP headers sent for `request` (exposed for tests): From, one Rcpt per recipient,
  // IP, Helo, Hostname (always: rspamd does a PTR lookup without it), Queue-Id, MTA-Name.
  static std::vector<std::string> RequestHeaders(const ScanRequest& request);
  // "http://host:port" or ".../checkv2" -> the /checkv2 URL; "unix:/path" -> a URL for the
  // unix socket (UnixSocket gives the path).
  static std::string CheckUrl(const std::string& base);
  // "unix:/path" -> "/path" (rspamd's worker bound to a unix socket); "" for an http(s) URL.
  static std::string UnixSocket(const std::string& base);

 private:
  http::AsioHttpClient http_;  // on the scanning io_context: no thread, no locks
};

}  // namespace sw::filters
