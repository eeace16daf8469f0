// Owns `spamweeder scan`: arguments, config and domain, the scan, rows/summary/report output and
// the exit status. Fails by status: 2 usage or config, 1 runtime (a scanner failed, the report
// not written), 3 gates.
#include "qa/scan_command.h"

#include <boost/asio/io_context.hpp>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "common/log.h"
#include "config/config.h"
#include "filters/filter_set.h"
#include "qa/cli_args.h"
#include "qa/html_report.h"
#include "qa/progress_bar.h"
#include "qa/scan_runner.h"
#include "qa/scan_stats.h"

#ifndef SW_VERSION
#define SW_VERSION ""
#endif

namespace sw::qa {

const char* const kScanUsage =
    "usage: spamweeder scan [-c FILE] [--domain D] [--label spam|ham] [--jobs N]\n"
    "                       [--format text|json|csv] [--report FILE.html] [--quiet]\n"
    "                       [--min-detection R] [--max-false-positive R] [--allow-scanner-errors]\n"
    "                       [--helo NAME] [--client-ip IP] [--sender ADDR] PATH...\n"
    "  PATH: a message file, a directory (recursive, maildir) or an mbox; labels come from\n"
    "  --label or a path component naming spam or ham (spam-2, easy-ham-1).\n"
    "  R: 0.95 or 95%. Exit 3 when a gate is missed, 2 on usage or config errors, 1 when a\n"
    "  scanner failed on any message (an error, in no rate; whatever on_failure says) unless\n"
    "  --allow-scanner-errors.\n";

std::optional<double> ParseRate(std::string_view s) {
  bool pct = !s.empty() && s.back() == '%';
  if (pct) s.remove_suffix(1);
  std::string text(s);
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !(v >= 0)) return std::nullopt;
  if (pct || v > 1) v /= 100.0;
  if (v > 1) return std::nullopt;
  return v;
}

std::optional<ScanOptions> ParseScanArgs(const std::vector<std::string>& args, std::string* error) {
  ScanOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) { return TakeValue(args, i, out, error); };
    std::string v;
    if (a == "-c" || a == "--config") {
      if (!value(&o.config)) return std::nullopt;
    } else if (a == "--domain") {
      if (!value(&v)) return std::nullopt;
      for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      while (!v.empty() && v.back() == '.') v.pop_back();
      o.domain = v;
    } else if (a == "--label") {
      if (!value(&v)) return std::nullopt;
      auto l = ParseLabel(v);
      if (!l) {
        *error = "--label must be spam or ham";
        return std::nullopt;
      }
      o.label = *l;
    } else if (a == "--jobs" || a == "-j") {
      if (!TakeJobs(args, i, 1024, &o.jobs, error)) return std::nullopt;
    } else if (a == "--format") {
      if (!value(&v)) return std::nullopt;
      auto f = ParseFormat(v);
      if (!f) {
        *error = "--format must be text, json or csv";
        return std::nullopt;
      }
      o.format = *f;
    } else if (a == "--report") {
      if (!value(&o.report)) return std::nullopt;
    } else if (a == "--min-detection" || a == "--max-false-positive") {
      if (!value(&v)) return std::nullopt;
      auto r = ParseRate(v);
      if (!r) {
        *error = a + " must be a rate: 0.95 or 95%";
        return std::nullopt;
      }
      (a == "--min-detection" ? o.min_detection : o.max_false_positive) = *r;
    } else if (a == "--helo") {
      if (!value(&o.helo)) return std::nullopt;
    } else if (a == "--client-ip") {
      if (!value(&o.client_ip)) return std::nullopt;
    } else if (a == "--sender") {
      if (!value(&o.sender)) return std::nullopt;
    } else if (a == "--quiet" || a == "-q") {
      o.quiet = true;
    } else if (a == "--allow-scanner-errors") {
      o.allow_scanner_errors = true;
    } else if (a == "--") {
      o.paths.insert(o.paths.end(), args.begin() + i + 1, args.end());
      break;
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      *error = "unknown option " + a;
      return std::nullopt;
    } else {
      o.paths.push_back(a);
    }
  }
  if (o.paths.empty()) {
    *error = "no PATH given";
    return std::nullopt;
  }
  return o;
}

namespace {

std::string NowUtc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

bool WriteFileAtomically(const std::string& path, const std::string& text, std::string* error) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) {
      *error = "cannot create " + tmp;
      return false;
    }
    f << text;
    f.flush();
    if (!f) {
      *error = "cannot write " + tmp;
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    *error = "cannot rename " + tmp + ": " + ec.message();
    return false;
  }
  return true;
}

// The domain to scan for (a filtering one in the config) and the paths; 0, or 2 after saying why.
int CheckDomainAndPaths(const ScanOptions& o, const config::Config& cfg, std::string* domain,
                        std::ostream& err) {
  *domain = o.domain.empty() ? FirstFilteringDomain(cfg) : o.domain;
  if (domain->empty()) {
    err << "spamweeder scan: no domain in " << o.config << " has filtering: true\n";
    return 2;
  }
  auto d = cfg.domains.find(*domain);
  if (d == cfg.domains.end()) {
    err << "spamweeder scan: domain " << *domain << " is not in " << o.config << "\n";
    return 2;
  }
  if (!d->second.filtering) {
    err << "spamweeder scan: domain " << *domain
        << " has filtering: false (the gateway scans nothing for it)\n";
    return 2;
  }
  for (const auto& p : o.paths) {
    std::error_code ec;
    if (!std::filesystem::exists(p, ec)) {
      err << "spamweeder scan: " << p << ": no such file or directory\n";
      return 2;
    }
  }
  return 0;
}

// Every message of the corpus through `pipeline` for `domain`, with a progress bar on `err`.
std::vector<ScanRow> ScanCorpus(const ScanOptions& o, std::shared_ptr<const config::Config> cfg,
                                const std::string& domain, filters::Pipeline& pipeline,
                                std::ostream& err, double* wall) {
  CorpusReader reader(ListCorpus(o.paths, o.label));
  ProgressBar bar(err, StderrIsTerminal());
  ScanJob job;
  job.pipeline = &pipeline;
  job.domain = &cfg->domains.at(domain);
  job.config = std::move(cfg);
  job.envelope.client_ip = o.client_ip;
  job.envelope.helo = o.helo;
  job.envelope.recipient = "user@" + domain;
  job.envelope.default_sender = o.sender;
  job.jobs = o.jobs;
  std::vector<ScanRow> rows;
  boost::asio::io_context io(1);
  rows = RunScan(
      io, job, reader, [&bar](size_t done, size_t total, size_t n) { bar.Update(done, total, n); },
      wall);
  bar.Finish();
  pipeline.Stop();  // scanner threads joined while `io` still exists
  return rows;
}

// 3 when --min-detection or --max-false-positive is missed (saying which), else 0.
int GateStatus(const ScanOptions& o, const ScanSummary& summary, std::ostream& err) {
  int status = 0;
  if (o.min_detection) {
    const Rate& r = summary.spam_detection;
    if (r.total == 0 || r.value() + 1e-12 < *o.min_detection) {
      err << "spamweeder scan: spam detection " << Percent(r) << " is below the minimum "
          << *o.min_detection * 100 << "%\n";
      status = 3;
    }
  }
  if (o.max_false_positive) {
    const Rate& r = summary.ham_false_positive;
    if (r.total == 0 || r.value() > *o.max_false_positive + 1e-12) {
      err << "spamweeder scan: ham false positives " << Percent(r) << " exceed the maximum "
          << *o.max_false_positive * 100 << "%\n";
      status = 3;
    }
  }
  return status;
}

}  // namespace

int ScanCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (WantsHelp(args)) {
    out << kScanUsage;
    return 0;
  }
  std::string error;
  auto opts = ParseScanArgs(args, &error);
  if (!opts) {
    err << "spamweeder scan: " << error << "\n" << kScanUsage;
    return 2;
  }
  std::shared_ptr<const config::Config> cfg;
  try {
    cfg = std::make_shared<const config::Config>(config::LoadConfig(opts->config));
  } catch (const config::ConfigError& e) {
    for (const auto& p : e.problems()) err << p << "\n";
    return 2;
  }
  std::string domain;
  if (int st = CheckDomainAndPaths(*opts, *cfg, &domain, err); st != 0) return st;
  const config::DomainConfig& d = cfg->domains.at(domain);

  // The gateway's scanners, built exactly as `serve` builds them; their log lines go to
  // stderr only when they matter.
  log::SetMinLevel(log::Level::kWarn);
  std::string build_error;
  auto pipeline = filters::BuildPipeline(*cfg, &build_error);
  if (!pipeline) {
    err << opts->config << ": cannot start the ClamAV filter: " << build_error << "\n";
    return 2;
  }
  double wall = 0;
  std::vector<ScanRow> rows = ScanCorpus(*opts, cfg, domain, *pipeline, err, &wall);
  for (const auto& r : rows)
    if (r.verdict == "error") err << "spamweeder scan: " << r.path << ": " << r.error << "\n";

  ScanSummary summary = Summarize(rows, wall);
  if (summary.scanner_errors > 0)
    err << "spamweeder scan: " << summary.scanner_errors << " of " << summary.messages
        << " messages not measured: a scanner failed (counted as errors, in no rate)\n";
  PolicyInfo policy{domain, d.spam.tag_score, d.spam.reject_score};
  if (opts->format == Format::kJson) {
    WriteJson(out, opts->quiet ? std::vector<ScanRow>{} : rows, summary, policy);
  } else {
    if (!opts->quiet) WriteRows(out, opts->format, rows);
    WriteSummary(opts->format == Format::kCsv ? err : out, Format::kText, summary, policy);
  }
  out.flush();

  bool runtime_error = false;  // exit 1 whatever the gates say
  if (!opts->report.empty()) {
    ReportInfo info{policy, opts->paths, NowUtc(), SW_VERSION};
    if (!WriteFileAtomically(opts->report, RenderHtmlReport(rows, summary, info), &error)) {
      err << "spamweeder scan: report: " << error << "\n";
      runtime_error = true;
    }
  }
  int status = GateStatus(*opts, summary, err);
  if (summary.scanner_errors > 0 && !opts->allow_scanner_errors) {
    err << "spamweeder scan: exit 1: scanner errors (--allow-scanner-errors to accept them)\n";
    runtime_error = true;
  }
  return runtime_error ? 1 : status;
}

}  // namespace sw::qa
