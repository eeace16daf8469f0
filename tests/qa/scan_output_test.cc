// Tests scan output: JSON and CSV escaping, the text/CSV/JSON rows and the argument parser of
// `spamweeder scan` (rates, formats, usage errors). Fails with an assertion.
#include "qa/scan_output.h"

#include <gtest/gtest.h>

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

TEST(JsonStringTest, EscapesControlsQuotesAndBadUtf8) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(JsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(JsonString("bad\xff"), "\"bad\\ufffd\"");
  EXPECT_EQ(JsonString("\xc3"), "\"\\ufffd\"");
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
  EXPECT_NE(j.find("\"path\":\"spam/a,\\\"b\\\".eml\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"score\":7.2500"), std::string::npos) << j;
  EXPECT_NE(j.find("\"symbols\":[{\"name\":\"BAYES_SPAM\",\"score\":5.1000}"), std::string::npos);
  EXPECT_NE(j.find("\"virus\":null"), std::string::npos);
  EXPECT_NE(j.find("\"tag_score\":6.0000,\"reject_score\":null"), std::string::npos) << j;
  EXPECT_NE(j.find("\"spam_detection\":{\"hits\":1,\"total\":1,\"rate\":1.0000}"),
            std::string::npos)
      << j;
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
