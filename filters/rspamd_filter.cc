// Owns the rspamd scanner: one message -> POST /checkv2 with the SMTP envelope -> FilterResult.
// Fails by value: connection errors, HTTP errors, bad JSON and timeouts give kFailed/kTimeout.
#include "filters/rspamd_filter.h"

#include "common/header_text.h"
#include "filters/rspamd_response.h"

namespace sw::filters {

namespace {

// Header values come from the SMTP session (or a corpus message): one sanitised line each.
std::string OneLine(const std::string& s) { return HeaderText(s); }

}  // namespace

RspamdFilter::RspamdFilter(const config::RspamdConfig& config) : http_(config.max_connections) {}

FilterSettings RspamdFilter::Settings(const config::FiltersConfig& config) const {
  return {config.rspamd.timeout, config.rspamd.on_failure};
}

std::string RspamdFilter::UnixSocket(const std::string& base) {
  return base.rfind("unix:", 0) == 0 ? base.substr(5) : std::string();
}

std::string RspamdFilter::CheckUrl(const std::string& base) {
  if (base.rfind("unix:", 0) == 0) return "http://localhost/checkv2";
  std::string url = base;
  if (url.size() >= 8 && url.compare(url.size() - 8, 8, "/checkv2") == 0) return url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/checkv2";
}

std::vector<std::string> RspamdFilter::RequestHeaders(const ScanRequest& r) {
  std::vector<std::string> h;
  h.push_back("From: " + OneLine(r.sender.empty() ? "<>" : r.sender));
  for (const auto& rcpt : r.recipients) h.push_back("Rcpt: " + OneLine(rcpt));
  if (!r.client_ip.empty()) h.push_back("IP: " + OneLine(r.client_ip));
  if (!r.helo.empty()) h.push_back("Helo: " + OneLine(r.helo));
  h.push_back("Hostname: " + OneLine(r.client_hostname.empty() ? "unknown" : r.client_hostname));
  if (!r.id.empty()) h.push_back("Queue-Id: " + OneLine(r.id));
  if (!r.hostname.empty()) h.push_back("MTA-Name: " + OneLine(r.hostname));
  return h;
}

boost::asio::awaitable<FilterResult> RspamdFilter::Scan(const ScanRequest& request) {
  http::HttpRequest req;
  const config::RspamdConfig& rc = request.config->filters.rspamd;
  req.url = CheckUrl(rc.url);
  req.unix_socket = UnixSocket(rc.url);
  req.headers = RequestHeaders(request);
  req.content_type = "message/rfc822";
  req.body = request.body;
  req.timeout = rc.timeout;
  http::HttpResponse resp = co_await http_.Post(std::move(req));
  if (!resp.ok) {
    co_return FilterResult::Failed(
        "rspamd", resp.timed_out ? FilterOutcome::kTimeout : FilterOutcome::kFailed, resp.error);
  }
  if (resp.status != 200) {
    std::string snippet = OneLine(resp.body.substr(0, 200));
    co_return FilterResult::Failed("rspamd", FilterOutcome::kFailed,
                                   "HTTP " + std::to_string(resp.status) + ": " + snippet);
  }
  co_return ParseCheckV2(resp.body);
}

}  // namespace sw::filters
