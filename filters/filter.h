// Owns the scanner interface: what a filter is given (ScanRequest) and what it reports back.
// Fails by value: a scanner that cannot answer returns kFailed/kTimeout, never throws.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace sw::filters {

// One message, as the session has it at the end of DATA.
struct ScanRequest {
  std::string id;                       // queue ID (rspamd Queue-Id)
  std::string sender;                   // MAIL FROM, empty for the null sender
  std::vector<std::string> recipients;  // RCPT TO addresses
  std::string client_ip;
  std::string client_hostname = "unknown";  // we do no PTR lookups
  std::string helo;
  std::string hostname;  // ours (server.hostname)
  // The stored message: starts with our own Received header.
  std::shared_ptr<const std::string> body;
  // The configuration the session runs with (scanner URLs, timeouts, on_failure).
  std::shared_ptr<const config::Config> config;
};

struct Symbol {
  std::string name;
  double score = 0;
};

struct HeaderField {
  std::string name;
  std::string value;  // may hold folded lines (CRLF + whitespace)
};

// Remove occurrences of `name`: index 0 all, n > 0 the n-th, n < 0 the n-th from the end.
struct HeaderRemoval {
  std::string name;
  int index = 0;
};

enum class FilterOutcome { kOk, kFailed, kTimeout };

// What one filter found. Spam scanners fill the score fields, virus scanners `virus`.
struct FilterResult {
  std::string filter;  // "rspamd", "clamav"
  FilterOutcome outcome = FilterOutcome::kOk;
  std::string error;  // why it failed
  double ms = 0;      // wall time of the scan as the pipeline saw it

  // Spam scanner.
  bool has_score = false;
  double score = 0;
  double required_score = 0;
  std::string action;           // rspamd: "no action", "add header", "rewrite subject", ...
  bool forced = false;          // the action came from a pre-filter (rspamd is_skipped: GTUBE, ...)
  std::vector<Symbol> symbols;  // sorted by score, highest first
  std::vector<HeaderField> add_headers;
  std::vector<HeaderRemoval> remove_headers;
  std::string subject;  // rspamd "rewrite subject": the new subject

  // Virus scanner: empty when clean.
  std::string virus;

  bool ok() const { return outcome == FilterOutcome::kOk; }
  static FilterResult Failed(std::string filter, FilterOutcome outcome, std::string error) {
    FilterResult r;
    r.filter = std::move(filter);
    r.outcome = outcome;
    r.error = std::move(error);
    return r;
  }
};

// How the pipeline treats a filter under the current configuration.
struct FilterSettings {
  std::chrono::milliseconds timeout{0};
  config::OnFailure on_failure = config::OnFailure::kTempfail;
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;
  virtual FilterSettings Settings(const config::FiltersConfig& config) const = 0;
  // Scans on the caller's executor; long work runs elsewhere and completes back here. Must
  // honour per-operation cancellation (terminal): the pipeline cancels at the deadline.
  virtual boost::asio::awaitable<FilterResult> Scan(const ScanRequest& request) = 0;
  // Ends background work (threads joined); pending scans are failed or dropped. Idempotent.
  virtual void Stop() {}
};

}  // namespace sw::filters
