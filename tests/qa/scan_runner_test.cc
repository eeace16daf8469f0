// Tests the scan loop over a real filters::Pipeline with fake filters: verdicts come from the
// gateway's policy, rows keep reading order under concurrency, unreadable files are rows.
#include "qa/scan_runner.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace sw::qa {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

// Scores "X-Test-Score: N" after a delay that shrinks with N (so completions reorder); sees
// the request the gateway would send.
class FakeSpamFilter : public filters::Filter {
 public:
  std::string_view name() const override { return "rspamd"; }
  filters::FilterSettings Settings(const config::FiltersConfig&) const override {
    return {std::chrono::seconds(5), config::OnFailure::kTempfail};
  }
  asio::awaitable<filters::FilterResult> Scan(const filters::ScanRequest& req) override {
    ++calls;
    last_sender = req.sender;
    const std::string& b = *req.body;
    EXPECT_EQ(b.rfind("Received: from localhost ([127.0.0.1])", 0), 0u);
    size_t p = b.find("X-Test-Score: ");
    double score = p == std::string::npos ? 0 : std::atof(b.c_str() + p + 14);
    asio::steady_timer t(co_await asio::this_coro::executor,
                         std::chrono::milliseconds(static_cast<int>(30 - score)));
    co_await t.async_wait(asio::use_awaitable);
    filters::FilterResult r;
    r.filter = "rspamd";
    r.has_score = true;
    r.score = score;
    r.required_score = 15;
    r.action = score >= 15 ? "reject" : score >= 6 ? "add header" : "no action";
    r.symbols = {{"TEST_SCORE", score}, {"NEGATIVE", -1}};
    co_return r;
  }
  int calls = 0;
  std::string last_sender;
};

class FakeVirusFilter : public filters::Filter {
 public:
  std::string_view name() const override { return "clamav"; }
  filters::FilterSettings Settings(const config::FiltersConfig&) const override {
    return {std::chrono::seconds(5), config::OnFailure::kTempfail};
  }
  asio::awaitable<filters::FilterResult> Scan(const filters::ScanRequest& req) override {
    filters::FilterResult r;
    r.filter = "clamav";
    if (req.body->find("EICAR") != std::string::npos) r.virus = "Eicar-Test-Signature";
    co_return r;
  }
};

// rspamd unreachable, under either on_failure policy.
class FailingSpamFilter : public filters::Filter {
 public:
  explicit FailingSpamFilter(config::OnFailure on_failure) : on_failure_(on_failure) {}
  std::string_view name() const override { return "rspamd"; }
  filters::FilterSettings Settings(const config::FiltersConfig&) const override {
    return {std::chrono::seconds(5), on_failure_};
  }
  asio::awaitable<filters::FilterResult> Scan(const filters::ScanRequest&) override {
    co_return filters::FilterResult::Failed("rspamd", filters::FilterOutcome::kFailed,
                                            "Couldn't connect to server");
  }

 private:
  config::OnFailure on_failure_;
};

TEST(ScanRunnerTest, GatewayVerdictsInReadingOrder) {
  std::string t = (fs::temp_directory_path() / "sw-qa-run-XXXXXX").string();
  std::string root = mkdtemp(t.data());
  auto write = [&](const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(root + "/" + rel).parent_path());
    std::ofstream(root + "/" + rel, std::ios::binary) << text;
  };
  write("spam/1.eml", "From: s@spam.test\nX-Test-Score: 20\n\nbuy\n");
  write("spam/2.eml", "X-Test-Score: 7\n\nbuy\n");
  write("spam/3.eml", "X-Test-Score: 1\n\nEICAR\n");
  write("ham/1.eml", "X-Test-Score: 0.5\n\nhello\n");
  write("ham/2.eml", "X-Test-Score: 9\n\nnewsletter\n");
  fs::create_symlink(root + "/none", root + "/ham/3.eml");

  auto spam = std::make_unique<FakeSpamFilter>();
  FakeSpamFilter* spam_ptr = spam.get();
  std::vector<std::unique_ptr<filters::Filter>> fs_;
  fs_.push_back(std::move(spam));
  fs_.push_back(std::make_unique<FakeVirusFilter>());
  filters::Pipeline pipeline(std::move(fs_));
  auto cfg = std::make_shared<config::Config>();
  config::DomainConfig d;
  d.name = "example.com";
  d.filtering = true;
  cfg->domains["example.com"] = d;

  ScanJob job;
  job.pipeline = &pipeline;
  job.config = cfg;
  job.domain = &cfg->domains["example.com"];
  job.envelope.recipient = "user@example.com";
  job.jobs = 4;
  CorpusReader reader(ListCorpus({root}, Label::kUnknown));
  size_t progress_calls = 0;
  double wall = 0;
  asio::io_context io(1);
  auto rows = RunScan(
      io, job, reader, [&](size_t, size_t, size_t) { ++progress_calls; }, &wall);
  pipeline.Stop();
  fs::remove_all(root);

  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(progress_calls, 6u);
  EXPECT_EQ(spam_ptr->calls, 5);
  EXPECT_GT(wall, 0);
  // Sorted: ham/1, ham/2, ham/3 (dangling), spam/1, spam/2, spam/3.
  EXPECT_EQ(rows[0].path, root + "/ham/1.eml");
  EXPECT_EQ(rows[0].verdict, "accept");
  EXPECT_EQ(rows[0].label, Label::kHam);
  EXPECT_DOUBLE_EQ(*rows[0].score, 0.5);
  EXPECT_EQ(rows[1].verdict, "tag");  // default tag_score 6
  EXPECT_EQ(rows[2].verdict, "error");
  EXPECT_FALSE(rows[2].error.empty());
  EXPECT_EQ(rows[3].verdict, "reject");  // default reject_score 15
  EXPECT_EQ(rows[3].reason, "spam");
  ASSERT_EQ(rows[3].symbols.size(), 1u);  // negative symbols dropped
  EXPECT_EQ(rows[3].symbols[0].name, "TEST_SCORE");
  EXPECT_EQ(rows[4].verdict, "tag");
  EXPECT_EQ(rows[5].verdict, "reject");
  EXPECT_EQ(rows[5].reason, "virus");
  EXPECT_EQ(rows[5].virus, "Eicar-Test-Signature");
  EXPECT_GT(rows[0].ms, 0);

  ScanSummary s = Summarize(rows, wall);
  EXPECT_EQ(s.spam_detection.hits, 3u);
  EXPECT_EQ(s.ham_false_positive.hits, 1u);
  EXPECT_EQ(s.ham_false_positive.total, 2u);
  EXPECT_EQ(s.errors, 1u);
}

TEST(ScanRunnerTest, OversizeMessagesGetTheGateways552Verdict) {
  std::string t = (fs::temp_directory_path() / "sw-qa-big-XXXXXX").string();
  std::string root = mkdtemp(t.data());
  std::ofstream(root + "/big.eml", std::ios::binary) << "Subject: big\n\n" << std::string(100, 'x');
  std::ofstream(root + "/small.eml", std::ios::binary) << "Subject: s\n\nx\n";
  std::vector<std::unique_ptr<filters::Filter>> list;
  list.push_back(std::make_unique<FakeSpamFilter>());
  filters::Pipeline pipeline(std::move(list));
  auto cfg = std::make_shared<config::Config>();
  cfg->server.max_message_size = 50;
  config::DomainConfig d;
  d.name = "example.com";
  d.filtering = true;
  cfg->domains["example.com"] = d;
  ScanJob job;
  job.pipeline = &pipeline;
  job.config = cfg;
  job.domain = &cfg->domains["example.com"];
  job.envelope.recipient = "user@example.com";
  CorpusReader reader(ListCorpus({root}, Label::kUnknown));
  asio::io_context io(1);
  auto rows = RunScan(io, job, reader, nullptr, nullptr);
  pipeline.Stop();
  fs::remove_all(root);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].verdict, "reject");
  EXPECT_EQ(rows[0].reason, "message size over limit");
  EXPECT_FALSE(rows[0].score);
  EXPECT_EQ(rows[1].verdict, "accept");
}

// A scanner failure is an error row whatever on_failure says: nothing was measured, so the
// message counts in no rate (today's tempfail would read as "missed", accept as "clean").
TEST(ScanRunnerTest, ScannerFailureIsAnErrorUnderEitherPolicy) {
  for (auto policy : {config::OnFailure::kTempfail, config::OnFailure::kAccept}) {
    std::string t = (fs::temp_directory_path() / "sw-qa-fail-XXXXXX").string();
    std::string root = mkdtemp(t.data());
    fs::create_directories(root + "/spam");
    fs::create_directories(root + "/ham");
    std::ofstream(root + "/spam/1.eml", std::ios::binary) << "Subject: buy\n\nbuy\n";
    std::ofstream(root + "/ham/1.eml", std::ios::binary) << "Subject: hi\n\nhello\n";
    std::vector<std::unique_ptr<filters::Filter>> list;
    list.push_back(std::make_unique<FailingSpamFilter>(policy));
    list.push_back(std::make_unique<FakeVirusFilter>());
    filters::Pipeline pipeline(std::move(list));
    auto cfg = std::make_shared<config::Config>();
    config::DomainConfig d;
    d.name = "example.com";
    d.filtering = true;
    cfg->domains["example.com"] = d;
    ScanJob job;
    job.pipeline = &pipeline;
    job.config = cfg;
    job.domain = &cfg->domains["example.com"];
    job.envelope.recipient = "user@example.com";
    CorpusReader reader(ListCorpus({root}, Label::kUnknown));
    asio::io_context io(1);
    auto rows = RunScan(io, job, reader, nullptr, nullptr);
    pipeline.Stop();
    fs::remove_all(root);
    ASSERT_EQ(rows.size(), 2u);
    for (const auto& r : rows) {
      EXPECT_EQ(r.verdict, "error") << static_cast<int>(policy);
      EXPECT_TRUE(r.scanner_error);
      EXPECT_EQ(r.reason, "scanner failed");
      EXPECT_EQ(r.error, "rspamd: Couldn't connect to server");
    }
    ScanSummary s = Summarize(rows, 1.0);
    EXPECT_EQ(s.errors, 2u);
    EXPECT_EQ(s.scanner_errors, 2u);
    EXPECT_EQ(s.spam_detection.total, 0u);  // not "0% detected": not measured
    EXPECT_EQ(s.ham_false_positive.total, 0u);
    EXPECT_EQ(s.tempfails, 0u);
  }
}

TEST(ScanRunnerTest, RowFromUnfilteredVerdict) {
  ScanRow r = RowFromVerdict(filters::Unfiltered());
  EXPECT_EQ(r.verdict, "accept");
  EXPECT_EQ(r.reason, "not filtered");
  EXPECT_FALSE(r.score);
}

}  // namespace
}  // namespace sw::qa
