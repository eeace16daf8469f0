// Owns `spamweeder train`: labelled corpora POSTed to rspamd's controller (/learnspam,
// /learnham), counted as learned / already known / skipped. Fails by status: 2 usage or
// config, 1 when the controller could not be reached for any message.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "config/config.h"
#include "qa/corpus_reader.h"
#include "qa/scan_request.h"

namespace sw::qa {

struct TrainOptions {
  std::string config = "/etc/spamweeder/spamweeder.yaml";
  bool config_given = false;      // -c FILE named; else the default file is optional with
                                  // --controller
  std::string domain;             // --domain D: whose user@D the messages are for
  std::vector<std::string> spam;  // --spam PATH (repeatable)
  std::vector<std::string> ham;   // --ham PATH (repeatable)
  std::string controller;         // empty: filters.rspamd.url with port 11334
  std::string password;           // rspamd controller password (Password header), optional
  size_t jobs = 4;
};

std::optional<TrainOptions> ParseTrainArgs(const std::vector<std::string>& args,
                                           std::string* error);

// "http://127.0.0.1:11333" (or ".../checkv2") -> "http://127.0.0.1:11334".
std::string DefaultControllerUrl(const std::string& rspamd_url);

// The POST for one labelled message: the request the gateway's rspamd filter sends for it
// (BuildScanRequest: our Received header, CRLF line endings, From/Rcpt/IP/Helo/Queue-Id
// headers), so Bayes learns the tokens it will later classify, to /learnspam or /learnham.
http::HttpRequest LearnRequest(std::string_view message, Label label, uint64_t n,
                               const ScanEnvelope& env,
                               std::shared_ptr<const config::Config> config,
                               const std::string& controller, const std::string& password);

enum class LearnOutcome { kLearned, kKnown, kSkipped, kUnreachable };

// rspamd's answer to one /learn* POST -> outcome; `why` gets the reason when skipped.
// 200 {"success":true}: learned; 208 or "already learned": known; 204 (declined: too few tokens
// or a learn condition, e.g. Bayes already puts it in that class) and
// anything else: skipped.
LearnOutcome ClassifyLearnReply(bool transport_ok, long status, const std::string& body,
                                std::string* why);

struct TrainCounts {
  uint64_t learned = 0, known = 0, skipped = 0, unreachable = 0;
  std::map<std::string, uint64_t> reasons;  // why messages were skipped
};

int TrainCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

extern const char* const kTrainUsage;

}  // namespace sw::qa
