// Owns `spamweeder train`: labelled corpora POSTed to rspamd's controller (/learnspam,
// /learnham), counted as learned / already known / skipped. Fails by status: 2 usage or
// config, 1 when the controller could not be reached for any message.
#include "qa/train_command.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>

#include "common/log.h"
#include "config/config.h"
#include "filters/rspamd_filter.h"
#include "qa/cli_args.h"
#include "qa/corpus_reader.h"
#include "qa/progress_bar.h"

namespace sw::qa {

namespace asio = boost::asio;

const char* const kTrainUsage =
    "usage: spamweeder train [-c FILE] --spam PATH... --ham PATH... [--controller URL]\n"
    "                        [--password P] [--jobs N] [--domain D]\n"
    "  Sends each message to rspamd's controller (/learnspam, /learnham) as the gateway\n"
    "  would scan it for user@D (D: the first domain with filtering: true); the controller\n"
    "  defaults to filters.rspamd.url with port 11334. --spam/--ham may repeat.\n";

std::optional<TrainOptions> ParseTrainArgs(const std::vector<std::string>& args,
                                           std::string* error) {
  TrainOptions o;
  std::vector<std::string>* current = nullptr;  // where bare PATHs after --spam/--ham go
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) { return TakeValue(args, i, out, error); };
    std::string v;
    if (a == "-c" || a == "--config") {
      if (!value(&o.config)) return std::nullopt;
      o.config_given = true;
      current = nullptr;
    } else if (a == "--domain") {
      if (!value(&o.domain)) return std::nullopt;
      current = nullptr;
    } else if (a == "--spam" || a == "--ham") {
      if (!value(&v)) return std::nullopt;
      current = a == "--spam" ? &o.spam : &o.ham;
      current->push_back(v);
    } else if (a == "--controller") {
      if (!value(&o.controller)) return std::nullopt;
      current = nullptr;
    } else if (a == "--password") {
      if (!value(&o.password)) return std::nullopt;
      current = nullptr;
    } else if (a == "--jobs" || a == "-j") {
      if (!TakeJobs(args, i, 256, &o.jobs, error)) return std::nullopt;
      current = nullptr;
    } else if (!a.empty() && a[0] == '-') {
      *error = "unknown option " + a;
      return std::nullopt;
    } else if (current) {
      current->push_back(a);
    } else {
      *error = "PATH " + a + " must follow --spam or --ham";
      return std::nullopt;
    }
  }
  if (o.spam.empty() && o.ham.empty()) {
    *error = "give --spam PATH and/or --ham PATH";
    return std::nullopt;
  }
  return o;
}

std::string DefaultControllerUrl(const std::string& rspamd_url) {
  // rspamd's normal worker on a unix socket: its controller on the default local port.
  if (rspamd_url.rfind("unix:", 0) == 0) return "http://127.0.0.1:11334";
  std::string url = rspamd_url;
  size_t scheme = url.find("://");
  size_t host_start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t path = url.find('/', host_start);
  std::string hostport =
      url.substr(host_start, path == std::string::npos ? std::string::npos : path - host_start);
  std::string prefix = url.substr(0, host_start);
  size_t colon = hostport.rfind(':');
  size_t bracket = hostport.rfind(']');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket))
    hostport.resize(colon);
  return prefix + hostport + ":11334";
}

LearnOutcome ClassifyLearnReply(bool transport_ok, long status, const std::string& body,
                                std::string* why) {
  if (!transport_ok) return LearnOutcome::kUnreachable;
  if (status == 200 && body.find("\"success\"") != std::string::npos &&
      body.find("true") != std::string::npos)
    return LearnOutcome::kLearned;
  if (status == 208 || body.find("already learned") != std::string::npos)
    return LearnOutcome::kKnown;
  if (status == 204) {  // rspamd says why in the reason phrase only
    *why = "HTTP 204: rspamd declined (too few tokens, or a learn condition: already in class)";
    return LearnOutcome::kSkipped;
  }
  // {"error":"..."}: keep the message text as the reason.
  std::string reason = "HTTP " + std::to_string(status);
  size_t e = body.find("\"error\"");
  if (e != std::string::npos) {
    size_t q1 = body.find('"', body.find(':', e) + 1);
    size_t q2 = q1 == std::string::npos ? q1 : body.find('"', q1 + 1);
    if (q2 != std::string::npos) {
      std::string text = body.substr(q1 + 1, q2 - q1 - 1);
      // Message IDs make every reason unique: keep the text after "<...>".
      size_t gt = text.find("> ");
      if (text.rfind("<", 0) == 0 && gt != std::string::npos) text = text.substr(gt + 2);
      reason += ": " + text.substr(0, 120);
    }
  }
  *why = reason;
  return LearnOutcome::kSkipped;
}
http::HttpRequest LearnRequest(std::string_view message, Label label, uint64_t n,
                               const ScanEnvelope& env,
                               std::shared_ptr<const config::Config> config,
                               const std::string& controller, const std::string& password) {
  filters::ScanRequest scan = BuildScanRequest(message, n, env, std::move(config));
  http::HttpRequest req;
  req.url = controller + (label == Label::kSpam ? "/learnspam" : "/learnham");
  req.headers = filters::RspamdFilter::RequestHeaders(scan);
  if (!password.empty()) req.headers.push_back("Password: " + password);
  req.content_type = "message/rfc822";
  req.body = std::move(scan.body);
  req.timeout = std::chrono::seconds(60);
  return req;
}

namespace {

struct TrainState {
  http::HttpClient* http;
  std::string base;
  std::string password;
  std::shared_ptr<const config::Config> config;
  ScanEnvelope envelope;
  CorpusReader* reader;
  ProgressBar* bar;
  std::map<std::string, TrainCounts> counts;  // by label
  size_t done = 0;
  std::vector<std::string> errors;
};

asio::awaitable<void> TrainWorker(TrainState* st) {
  for (;;) {
    CorpusMessage m;
    if (!st->reader->Next(&m)) break;
    std::string label = LabelName(m.label);
    TrainCounts& c = st->counts[label];
    ++st->done;
    if (!m.error.empty()) {
      ++c.skipped;
      ++c.reasons["unreadable"];
      st->errors.push_back(m.path + ": " + m.error);
      continue;
    }
    http::HttpResponse resp = co_await st->http->Post(
        LearnRequest(m.data, m.label, st->done, st->envelope, st->config, st->base, st->password));
    std::string why;
    switch (ClassifyLearnReply(resp.ok, resp.status, resp.body, &why)) {
      case LearnOutcome::kLearned:
        ++c.learned;
        break;
      case LearnOutcome::kKnown:
        ++c.known;
        break;
      case LearnOutcome::kSkipped:
        ++c.skipped;
        ++c.reasons[why];
        break;
      case LearnOutcome::kUnreachable:
        ++c.unreachable;
        ++c.reasons["controller unreachable: " + resp.error];
        break;
    }
    st->bar->Update(st->reader->files_done(), st->reader->files_total(), st->done);
  }
}

}  // namespace

namespace {

// The config gives the controller, our hostname and the domain; with --controller and no -c, a
// missing default config file means the built-in defaults. False (problems on `err`) when bad.
bool LoadTrainConfig(const TrainOptions& opts, config::Config* cfg, std::ostream& err) {
  std::error_code exists_ec;
  if (opts.config_given || opts.controller.empty() ||
      std::filesystem::exists(opts.config, exists_ec)) {
    try {
      *cfg = config::LoadConfig(opts.config);
    } catch (const config::ConfigError& e) {
      for (const auto& p : e.problems()) err << p << "\n";
      return false;
    }
  }
  return true;
}

bool CorpusExists(const TrainOptions& opts, std::ostream& err) {
  for (const auto* list : {&opts.spam, &opts.ham})
    for (const auto& p : *list) {
      std::error_code ec;
      if (!std::filesystem::exists(p, ec)) {
        err << "spamweeder train: " << p << ": no such file or directory\n";
        return false;
      }
    }
  return true;
}

// `jobs` workers on one event loop, one curl client, until the corpus is read.
void RunWorkers(TrainState& st, size_t jobs, ProgressBar& bar) {
  http::HttpClient http(static_cast<uint32_t>(jobs));
  st.http = &http;
  asio::io_context io(1);
  for (size_t i = 0; i < jobs; ++i)
    asio::co_spawn(io, TrainWorker(&st), [&st](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        st.errors.push_back(std::string("internal error: ") + ex.what());
      }
    });
  io.run();
  bar.Finish();
  http.Stop();
  st.http = nullptr;
}

// The per-label summary; 1 when no message reached the controller.
int Summarize(const TrainState& st, const std::string& base, double secs, std::ostream& out,
              std::ostream& err) {
  for (const auto& e : st.errors) err << "spamweeder train: " << e << "\n";
  uint64_t sent = 0, unreachable = 0;
  out << "controller " << base << "\n";
  for (const auto& [label, c] : st.counts) {
    out << "  " << label << ": learned " << c.learned << ", already known " << c.known
        << ", skipped " << c.skipped + c.unreachable << "\n";
    for (const auto& [why, n] : c.reasons) out << "    skipped " << n << ": " << why << "\n";
    sent += c.learned + c.known + c.skipped + c.unreachable;
    unreachable += c.unreachable;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", secs > 0 ? static_cast<double>(sent) / secs : 0.0);
  out << "  " << sent << " messages in " << static_cast<long long>(secs * 1000) << " ms (" << buf
      << " msg/s)\n";
  if (sent > 0 && unreachable == sent) {
    err << "spamweeder train: the controller at " << base << " could not be reached\n";
    return 1;
  }
  return 0;
}

}  // namespace

int TrainCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (WantsHelp(args)) {
    out << kTrainUsage;
    return 0;
  }
  std::string error;
  auto opts = ParseTrainArgs(args, &error);
  if (!opts) {
    err << "spamweeder train: " << error << "\n" << kTrainUsage;
    return 2;
  }
  auto cfg = std::make_shared<config::Config>();
  if (!LoadTrainConfig(*opts, cfg.get(), err)) return 2;
  std::string base =
      opts->controller.empty() ? DefaultControllerUrl(cfg->filters.rspamd.url) : opts->controller;
  std::string domain = opts->domain.empty() ? FirstFilteringDomain(*cfg) : opts->domain;
  if (domain.empty()) domain = "localhost";
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (!CorpusExists(*opts, err)) return 2;
  auto files = ListCorpus(opts->spam, Label::kSpam);
  auto ham = ListCorpus(opts->ham, Label::kHam);
  files.insert(files.end(), std::make_move_iterator(ham.begin()),
               std::make_move_iterator(ham.end()));
  CorpusReader reader(std::move(files));
  ProgressBar bar(err, StderrIsTerminal());
  log::SetMinLevel(log::Level::kWarn);
  auto start = std::chrono::steady_clock::now();
  TrainState st;
  st.base = base;
  st.password = opts->password;
  st.config = cfg;
  st.envelope.recipient = "user@" + domain;
  st.reader = &reader;
  st.bar = &bar;
  RunWorkers(st, opts->jobs, bar);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Summarize(st, base, secs, out, err);
}

}  // namespace sw::qa
