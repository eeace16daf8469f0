// Owns the concurrent corpus scan: messages from a CorpusReader through filters::Pipeline::Scan
// (the gateway's own pipeline and policy), `jobs` in flight on one io_context, rows out.
// Fails soft: unreadable files and scanner failures become "error" rows; never throws.
#include "qa/scan_runner.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>

namespace sw::qa {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

ScanRow RowFromVerdict(const filters::Verdict& v) {
  ScanRow row;
  row.verdict = filters::DispositionName(v.disposition);
  row.reason = v.scanned ? v.reason : "not filtered";
  row.score = v.score;
  row.action = v.action;
  for (const auto& s : v.symbols) {
    if (s.score <= 0) continue;
    if (row.symbols.size() == kKeptSymbols) break;
    row.symbols.push_back(s);
  }
  row.virus = v.virus;
  for (const auto& f : v.failures) row.error += (row.error.empty() ? "" : "; ") + f;
  if (!v.failures.empty()) {
    row.verdict = "error";
    row.reason = "scanner failed";
    row.scanner_error = true;
  }
  return row;
}

namespace {

struct State {
  const ScanJob* job;
  CorpusReader* reader;
  const ProgressFn* progress;
  std::vector<ScanRow> rows;
  uint64_t next_id = 1;
};

asio::awaitable<void> Worker(State* st) {
  const ScanJob& job = *st->job;
  for (;;) {
    CorpusMessage m;
    if (!st->reader->Next(&m)) break;
    size_t index = st->rows.size();
    st->rows.emplace_back();
    ScanRow row;
    if (!m.error.empty()) {
      row.verdict = "error";
      row.error = m.error;
    } else if (NormalizedSize(m.data) > job.config->server.max_message_size) {
      // The gateway answers 552 at the end of DATA, before any scan.
      row.verdict = "reject";
      row.reason = "message size over limit";
    } else {
      filters::ScanRequest req = BuildScanRequest(m.data, st->next_id++, job.envelope, job.config);
      m.data.clear();
      m.data.shrink_to_fit();
      auto start = Clock::now();
      filters::Verdict v = co_await job.pipeline->Scan(req, *job.domain);
      row = RowFromVerdict(v);
      row.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    }
    row.path = std::move(m.path);
    row.group = std::move(m.group);
    row.label = m.label;
    st->rows[index] = std::move(row);
    if (*st->progress)
      (*st->progress)(st->reader->files_done(), st->reader->files_total(), st->rows.size());
  }
}

}  // namespace

std::vector<ScanRow> RunScan(asio::io_context& io, const ScanJob& job, CorpusReader& reader,
                             const ProgressFn& progress, double* wall_seconds) {
  State st{&job, &reader, &progress, {}, 1};
  auto start = Clock::now();
  size_t jobs = job.jobs == 0 ? 1 : job.jobs;
  for (size_t i = 0; i < jobs; ++i) {
    asio::co_spawn(io, Worker(&st), [&st](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        ScanRow row;
        row.verdict = "error";
        row.error = std::string("internal error: ") + ex.what();
        st.rows.push_back(std::move(row));
      }
    });
  }
  io.restart();
  io.run();
  if (wall_seconds) *wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return std::move(st.rows);
}

}  // namespace sw::qa
