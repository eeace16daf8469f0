// Owns the concurrent corpus scan: messages from a CorpusReader through filters::Pipeline::Scan
// (the gateway's own pipeline and policy), `jobs` in flight on one io_context, rows out.
// Fails soft: unreadable files and scanner failures become "error" rows; never throws.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "config/config.h"
#include "filters/pipeline.h"
#include "qa/corpus_reader.h"
#include "qa/scan_request.h"
#include "qa/scan_stats.h"

namespace sw::qa {

struct ScanJob {
  filters::Pipeline* pipeline = nullptr;
  std::shared_ptr<const config::Config> config;
  const config::DomainConfig* domain = nullptr;
  ScanEnvelope envelope;  // recipient defaults to user@<domain>
  size_t jobs = 8;
};

// Called on the scanning thread after each message: files read, files listed, rows so far.
using ProgressFn = std::function<void(size_t files_done, size_t files_total, size_t rows)>;

// How many symbols a row keeps (positive scores, highest first).
inline constexpr size_t kKeptSymbols = 10;

// The row for a pipeline verdict (exposed for tests). A scanner that failed measured nothing:
// whatever the live on_failure would do (451 or pass unscanned), the row is an "error" with
// scanner_error set and the failures in `error`.
ScanRow RowFromVerdict(const filters::Verdict& v);

// Scans every message of `reader` on `io` (run here until the scan ends; the caller stops
// the pipeline afterwards, while `io` still exists). Rows come back in reading order;
// `wall_seconds` gets the elapsed time of the whole scan.
std::vector<ScanRow> RunScan(boost::asio::io_context& io, const ScanJob& job, CorpusReader& reader,
                             const ProgressFn& progress, double* wall_seconds);

}  // namespace sw::qa
