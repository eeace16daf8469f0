// Tests scan output: CSV escaping, the text/CSV/JSON rows and the argument parser of
// `spamweeder scan` (rates, formats, usage errors). Fails with an assertion.
#include "qa/scan_output.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sstream>

#include "qa/progress_bar.h"
#include "qa/scan_command.h"

namespace sw::qa {
namespace {

ScanRow Sample() {
  ScanRow r;
  r.path = "spam/a,\"b\".eml";
  r.label = Label::kSpam;
  r.verdict = "tag";
  r.score = 7.25;
  r.action = "add header";
  r.symbols = {{"BAYES_SPAM", 5.1}, {"MISSING_MID", 2.5}};
  r.ms = 12.34;
  return r;
}

TEST(CsvFieldTest, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
}

TEST(WriteRowsTest, CsvAndText) {
  std::ostringstream csv, text;
  WriteRows(csv, Format::kCsv, {Sample()});
  EXPECT_EQ(csv.str(),
            "path,label,verdict,score,action,symbols,virus,ms,error\n"
            "\"spam/a,\"\"b\"\".eml\",spam,tag,7.25,add header,"
            "\"BAYES_SPAM(5.10),MISSING_MID(2.50)\",,12.3,\n");
  WriteRows(text, Format::kText, {Sample()});
  EXPECT_EQ(text.str(),
            "spam/a,\"b\".eml  spam  tag  7.25  add header  12.3ms  "
            "BAYES_SPAM(5.10),MISSING_MID(2.50)\n");
}

TEST(WriteJsonTest, RowsAndSummary) {
  std::vector<ScanRow> rows = {Sample()};
  ScanSummary s = Summarize(rows, 1.0);
  std::ostringstream out;
  WriteJson(out, rows, s, {"example.com", 6.0, std::nullopt});
  std::string j = out.str();
  EXPECT_EQ(j.rfind("{\"messages\":[\n{\"path\":\"spam/a,\\\"b\\\".eml\",\"group\":", 0), 0u) << j;
  EXPECT_NE(j.find("\"score\":7.25,"), std::string::npos) << j;
  EXPECT_NE(j.find("\"symbols\":[{\"name\":\"BAYES_SPAM\",\"score\":5.1}"), std::string::npos);
  EXPECT_NE(j.find("\"virus\":null,\"ms\":12.34,\"error\":null}\n],\n\"summary\":{"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find("\"tag_score\":6,\"reject_score\":null"), std::string::npos) << j;
  EXPECT_NE(j.find("\"spam_detection\":{\"hits\":1,\"total\":1,\"rate\":1}"), std::string::npos)
      << j;
  EXPECT_EQ(j.substr(j.size() - 4), "}}}\n") << j;
}

TEST(WriteJsonTest, RoundsNumbersAndKeepsTheTextValid) {
  ScanRow r = Sample();
  r.path = "spam/Gr\xfc\xdf.eml";  // Latin-1 file name
  r.score = 1.0 / 3;
  r.ms = 0.125;
  r.error = "rspamd: \x01";
  std::vector<ScanRow> rows = {r, Sample()};
  std::ostringstream out;
  WriteJson(out, rows, Summarize(rows, 0), {"example.com", std::nullopt, std::nullopt});
  std::string j = out.str();
  EXPECT_NE(j.find("\"path\":\"spam/Gr\xef\xbf\xbd\xef\xbf\xbd.eml\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"score\":0.3333,"), std::string::npos) << j;
  EXPECT_NE(j.find("\"ms\":0.12,"), std::string::npos) << j;  // as printf("%.2f") rounds
  EXPECT_NE(j.find("\"error\":\"rspamd: \\u0001\"},\n{"), std::string::npos) << j;  // one per line
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(j, ec);
  ASSERT_FALSE(ec) << ec.message() << "\n" << j;
  EXPECT_EQ(doc.at("messages").as_array().size(), 2u);
  EXPECT_EQ(doc.at("summary").at("messages").to_number<int>(), 2);
}

// Scanner errors are counted apart from unreadable files in every format.
TEST(WriteSummaryTest, ScannerErrorsCountedInTextAndJson) {
  ScanRow failed = Sample();
  failed.verdict = "error";
  failed.reason = "scanner failed";
  failed.score.reset();
  failed.error = "rspamd: Couldn't connect to server";
  failed.scanner_error = true;
  ScanRow unreadable;
  unreadable.path = "ham/gone.eml";
  unreadable.label = Label::kHam;
  unreadable.verdict = "error";
  unreadable.error = "No such file";
  std::vector<ScanRow> rows = {failed, failed, unreadable, Sample()};
  ScanSummary s = Summarize(rows, 1.0);
  PolicyInfo p{"example.com", 6.0, std::nullopt};
  std::ostringstream text, json, csv;
  WriteSummary(text, Format::kText, s, p);
  EXPECT_NE(text.str().find("messages        4 (1 unreadable)\n"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("scanner errors  2 (a scanner failed"), std::string::npos)
      << text.str();
  EXPECT_NE(text.str().find("spam detection  100.00% (1/1)"), std::string::npos) << text.str();
  WriteJson(json, rows, s, p);
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(json.str(), ec);
  ASSERT_FALSE(ec) << json.str();
  const auto& sum = doc.at("summary");
  EXPECT_EQ(sum.at("errors").to_number<int>(), 3);
  EXPECT_EQ(sum.at("scanner_errors").to_number<int>(), 2);
  EXPECT_EQ(sum.at("unreadable").to_number<int>(), 1);
  EXPECT_EQ(doc.at("messages").at(0).at("verdict").as_string(), "error");
  EXPECT_EQ(doc.at("messages").at(0).at("reason").as_string(), "scanner failed");
  WriteRows(csv, Format::kCsv, rows);
  EXPECT_NE(csv.str().find(",spam,error,,add header,"), std::string::npos) << csv.str();
  EXPECT_NE(csv.str().find("rspamd: Couldn't connect to server\n"), std::string::npos);
}

TEST(ParseRateTest, FractionsAndPercent) {
  EXPECT_DOUBLE_EQ(*ParseRate("0.95"), 0.95);
  EXPECT_DOUBLE_EQ(*ParseRate("95%"), 0.95);
  EXPECT_DOUBLE_EQ(*ParseRate("0.5%"), 0.005);
  EXPECT_DOUBLE_EQ(*ParseRate("95"), 0.95);
  EXPECT_DOUBLE_EQ(*ParseRate("1"), 1.0);
  EXPECT_FALSE(ParseRate("101%"));
  EXPECT_FALSE(ParseRate("-1"));
  EXPECT_FALSE(ParseRate("abc"));
  EXPECT_FALSE(ParseRate(""));
}

TEST(ParseScanArgsTest, AllOptions) {
  std::string err;
  auto o = ParseScanArgs({"-c", "f.yaml", "--domain", "Example.COM.", "--label", "spam", "--jobs",
                          "3", "--format", "csv", "--report", "r.html", "--min-detection", "95%",
                          "--max-false-positive", "0.005", "a", "b"},
                         &err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->config, "f.yaml");
  EXPECT_EQ(o->domain, "example.com");
  EXPECT_EQ(o->label, Label::kSpam);
  EXPECT_EQ(o->jobs, 3u);
  EXPECT_EQ(o->format, Format::kCsv);
  EXPECT_EQ(o->report, "r.html");
  EXPECT_DOUBLE_EQ(*o->min_detection, 0.95);
  EXPECT_DOUBLE_EQ(*o->max_false_positive, 0.005);
  EXPECT_EQ(o->paths, (std::vector<std::string>{"a", "b"}));
}

TEST(ParseScanArgsTest, AllowScannerErrors) {
  std::string err;
  auto o = ParseScanArgs({"a"}, &err);
  ASSERT_TRUE(o) << err;
  EXPECT_FALSE(o->allow_scanner_errors);
  o = ParseScanArgs({"--allow-scanner-errors", "a"}, &err);
  ASSERT_TRUE(o) << err;
  EXPECT_TRUE(o->allow_scanner_errors);
  EXPECT_NE(std::string(kScanUsage).find("--allow-scanner-errors"), std::string::npos);
}

TEST(ParseScanArgsTest, UsageErrors) {
  std::string err;
  EXPECT_FALSE(ParseScanArgs({}, &err));
  EXPECT_FALSE(ParseScanArgs({"--label", "eggs", "x"}, &err));
  EXPECT_FALSE(ParseScanArgs({"--jobs", "0", "x"}, &err));
  EXPECT_FALSE(ParseScanArgs({"--format", "xml", "x"}, &err));
  EXPECT_FALSE(ParseScanArgs({"--bogus", "x"}, &err));
  EXPECT_FALSE(ParseScanArgs({"x", "--domain"}, &err));
  EXPECT_EQ(err, "--domain needs a value");
}

TEST(ScanCommandTest, UsageAndConfigErrorsExit2) {
  std::ostringstream out, err;
  EXPECT_EQ(ScanCommand({}, out, err), 2);
  EXPECT_EQ(ScanCommand({"-c", "/nonexistent/spamweeder.yaml", "x"}, out, err), 2);
  EXPECT_EQ(ScanCommand({"--help"}, out, err), 0);
}

TEST(ProgressBarTest, RenderAndDisabledOutput) {
  EXPECT_EQ(ProgressBar::Render(5, 10, 12, 2.0, 10), "[#####.....] 5/10 files  12 msgs  6.0 msg/s");
  EXPECT_EQ(ProgressBar::Render(0, 0, 0, 0, 4), "[....] 0/0 files  0 msgs  0.0 msg/s");
  std::ostringstream out;
  ProgressBar off(out, false);
  off.Update(1, 2, 1);
  off.Finish();
  EXPECT_EQ(out.str(), "");
  ProgressBar on(out, true);
  on.Update(1, 2, 1);
  on.Finish();
  EXPECT_EQ(out.str().rfind("\r[", 0), 0u);
  EXPECT_NE(out.str().find("\r\x1b[K"), std::string::npos);
}

}  // namespace
}  // namespace sw::qa
