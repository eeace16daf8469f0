// Owns `spamweeder scan`: arguments, config and domain, the scan, rows/summary/report output and
// the exit status. Fails by status: 2 usage or config, 1 runtime (a scanner failed, the report
// not written), 3 gates.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "qa/corpus_reader.h"
#include "qa/scan_output.h"

namespace sw::qa {

inline constexpr const char* kDefaultConfig = "/etc/spamweeder/spamweeder.yaml";

struct ScanOptions {
  std::string config = kDefaultConfig;
  std::string domain;  // empty: the first domain with filtering: true
  Label label = Label::kUnknown;
  size_t jobs = 8;
  Format format = Format::kText;
  std::string report;                        // FILE.html, empty: none
  std::optional<double> min_detection;       // fraction
  std::optional<double> max_false_positive;  // fraction
  std::string helo = "localhost";
  std::string client_ip = "127.0.0.1";
  std::string sender = "qa-scan@localhost";  // when a message names none
  bool quiet = false;                        // no per-message rows
  bool allow_scanner_errors = false;         // exit 0 (or 3) even when a scanner failed
  std::vector<std::string> paths;
};

// "0.95", "95%" or "95" (over 1: percent) -> 0.95; nullopt when not a rate in [0, 1].
std::optional<double> ParseRate(std::string_view s);

// Parses the arguments after "scan"; nullopt + `error` on a usage error.
std::optional<ScanOptions> ParseScanArgs(const std::vector<std::string>& args, std::string* error);

// Runs `spamweeder scan ARGS` (ARGS without "scan"); rows and summary to `out`, diagnostics
// and the progress bar to `err`. Returns the exit status.
int ScanCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

extern const char* const kScanUsage;

}  // namespace sw::qa
