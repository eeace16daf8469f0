// Tests the policy merge of SPEC section 6: precedence, thresholds, rspamd's own actions,
// on_failure, headers and the one-policy-per-transaction rule. Fails with an assertion.
#include "filters/policy.h"

#include <gtest/gtest.h>

namespace sw::filters {
namespace {

using config::DomainConfig;
using config::OnFailure;

DomainConfig Domain(std::optional<double> tag = 6, std::optional<double> reject = 15,
                    std::string subject_tag = "[SPAM]") {
  DomainConfig d;
  d.name = "example.com";
  d.filtering = true;
  d.spam.tag_score = tag;
  d.spam.reject_score = reject;
  d.spam.subject_tag = std::move(subject_tag);
  return d;
}

PolicyInput Spam(double score, std::string action = "no action", bool forced = false) {
  PolicyInput in;
  in.result.filter = "rspamd";
  in.result.has_score = true;
  in.result.score = score;
  in.result.required_score = 15;
  in.result.action = std::move(action);
  in.result.forced = forced;
  in.result.symbols = {{"BIG", 3.5}, {"ZERO", 0}, {"NEG", -1}};
  in.result.ms = 12;
  return in;
}

PolicyInput Clean() {
  PolicyInput in;
  in.result.filter = "clamav";
  in.result.ms = 3;
  return in;
}

PolicyInput Virus(std::string name = "Eicar-Test-Signature") {
  PolicyInput in = Clean();
  in.result.virus = std::move(name);
  return in;
}

PolicyInput Failed(std::string filter, OnFailure on_failure,
                   FilterOutcome outcome = FilterOutcome::kFailed) {
  PolicyInput in;
  in.result = FilterResult::Failed(std::move(filter), outcome, "connection refused");
  in.on_failure = on_failure;
  return in;
}

const HeaderField* Added(const Verdict& v, const std::string& name) {
  for (const auto& h : v.add_headers)
    if (h.name == name) return &h;
  return nullptr;
}

TEST(Policy, CleanHamIsAcceptedWithScoreAndStatus) {
  Verdict v = Decide(Domain(), {Spam(1.25), Clean()});
  EXPECT_EQ(v.disposition, Disposition::kAccept);
  EXPECT_TRUE(v.scanned);
  EXPECT_EQ(v.code, 250);
  ASSERT_EQ(v.add_headers.size(), 2u);
  EXPECT_EQ(v.add_headers[0].name, "X-Spam-Score");
  EXPECT_EQ(v.add_headers[0].value, "1.25");
  EXPECT_EQ(v.add_headers[1].name, "X-Spam-Status");
  EXPECT_EQ(v.add_headers[1].value, "No, score=1.25 required=6.00 tests=BIG,NEG");
  EXPECT_TRUE(v.subject_prefix.empty());
  ASSERT_EQ(v.filter_ms.size(), 2u);
  EXPECT_EQ(v.filter_ms[0], (std::pair<std::string, double>{"rspamd", 12}));
  // Client copies of our headers are always removed.
  ASSERT_GE(v.remove_headers.size(), 4u);
  EXPECT_EQ(v.remove_headers[0].name, "X-Spam-Flag");
}

TEST(Policy, VirusWinsOverEverything) {
  Verdict v = Decide(Domain(), {Spam(30, "reject"), Virus()});
  EXPECT_EQ(v.disposition, Disposition::kReject);
  EXPECT_EQ(v.Reply(), "554 5.7.1 Message rejected: virus found (Eicar-Test-Signature)");
  EXPECT_EQ(v.reason, "virus");
  v = Decide(Domain(), {Failed("rspamd", OnFailure::kTempfail), Virus("Bad Name\r\n")});
  EXPECT_EQ(v.code, 554);
  EXPECT_EQ(v.text, "Message rejected: virus found (Bad_Name__)");
}

TEST(Policy, ScoreAtRejectScoreGets550) {
  EXPECT_EQ(Decide(Domain(), {Spam(15), Clean()}).Reply(), "550 5.7.1 Message rejected as spam");
  EXPECT_EQ(Decide(Domain(), {Spam(14.99), Clean()}).disposition, Disposition::kTag);
  // Our threshold wins over rspamd's action...
  EXPECT_EQ(Decide(Domain(6, 20), {Spam(16, "reject"), Clean()}).disposition, Disposition::kTag);
  // ...except for a forced (pre-filter) reject such as GTUBE.
  EXPECT_EQ(Decide(Domain(6, 20), {Spam(15, "reject", true), Clean()}).code, 550);
}

TEST(Policy, UnsetThresholdsUseRspamdActions) {
  DomainConfig d = Domain(std::nullopt, std::nullopt);
  EXPECT_EQ(Decide(d, {Spam(100, "no action"), Clean()}).disposition, Disposition::kAccept);
  EXPECT_EQ(Decide(d, {Spam(1, "reject"), Clean()}).code, 550);
  Verdict tag = Decide(d, {Spam(7, "add header"), Clean()});
  EXPECT_EQ(tag.disposition, Disposition::kTag);
  EXPECT_EQ(tag.subject_prefix, "[SPAM]");
  ASSERT_TRUE(Added(tag, "X-Spam-Status"));
  EXPECT_EQ(Added(tag, "X-Spam-Status")->value.rfind("Yes, score=7.00 required=15.00", 0), 0u);
  PolicyInput rw = Spam(7, "rewrite subject");
  rw.result.subject = "*** SPAM *** hello";
  Verdict sub = Decide(d, {rw, Clean()});
  EXPECT_EQ(sub.new_subject, "*** SPAM *** hello");
  EXPECT_EQ(Decide(d, {Spam(7, "greylist"), Clean()}).disposition, Disposition::kAccept);
}

TEST(Policy, TagAddsFlagAndSubjectTag) {
  Verdict v = Decide(Domain(5), {Spam(5), Clean()});
  EXPECT_EQ(v.disposition, Disposition::kTag);
  ASSERT_GE(v.add_headers.size(), 3u);
  EXPECT_EQ(v.add_headers[0].name, "X-Spam-Flag");
  EXPECT_EQ(v.add_headers[0].value, "YES");
  EXPECT_EQ(v.subject_prefix, "[SPAM]");
  EXPECT_EQ(Added(v, "X-Spam-Status")->value.rfind("Yes, score=5.00 required=5.00", 0), 0u);
  // An empty subject_tag tags with the headers only.
  EXPECT_TRUE(Decide(Domain(5, 15, ""), {Spam(6), Clean()}).subject_prefix.empty());
}

TEST(Policy, SoftRejectGets451) {
  Verdict v = Decide(Domain(), {Spam(2, "soft reject"), Clean()});
  EXPECT_EQ(v.Reply(), "451 4.7.1 Try again later");
  EXPECT_EQ(v.reason, "soft reject");
  // A reject by score is final and wins over a soft reject.
  EXPECT_EQ(Decide(Domain(), {Spam(20, "soft reject"), Clean()}).code, 550);
}

TEST(Policy, FailureUnderTempfailGets451) {
  Verdict v = Decide(Domain(), {Failed("rspamd", OnFailure::kTempfail), Clean()});
  EXPECT_EQ(v.Reply(), "451 4.7.1 Message could not be scanned, try again later");
  ASSERT_EQ(v.failures.size(), 1u);
  EXPECT_EQ(v.failures[0], "rspamd: connection refused");
  v = Decide(Domain(), {Spam(1), Failed("clamav", OnFailure::kTempfail, FilterOutcome::kTimeout)});
  EXPECT_EQ(v.code, 451);
  // A definite spam reject still wins over a failed virus scan.
  EXPECT_EQ(Decide(Domain(), {Spam(50), Failed("clamav", OnFailure::kTempfail)}).code, 550);
}

TEST(Policy, FailureUnderAcceptPassesWithMark) {
  Verdict v = Decide(Domain(), {Failed("rspamd", OnFailure::kAccept), Clean()});
  EXPECT_EQ(v.disposition, Disposition::kAccept);
  ASSERT_EQ(v.add_headers.size(), 1u);
  EXPECT_EQ(v.add_headers[0].name, "X-SpamWeeder-Unscanned");
  EXPECT_EQ(v.add_headers[0].value, "rspamd");
  EXPECT_FALSE(v.score);
  v = Decide(Domain(),
             {Failed("rspamd", OnFailure::kAccept), Failed("clamav", OnFailure::kAccept)});
  EXPECT_EQ(Added(v, "X-SpamWeeder-Unscanned")->value, "rspamd, clamav");
  // One accept and one tempfail: tempfail.
  EXPECT_EQ(Decide(Domain(),
                   {Failed("rspamd", OnFailure::kAccept), Failed("clamav", OnFailure::kTempfail)})
                .code,
            451);
}

TEST(Policy, RspamdMilterHeadersPassButNotOurs) {
  PolicyInput s = Spam(1);
  s.result.add_headers = {{"X-Spamd-Bar", "+"}, {"X-Spam-Status", "rspamd's"}, {"bad name", "x"}};
  s.result.remove_headers = {{"X-Spamd-Bar", 0}, {"X-Spam-Score", 1}};
  Verdict v = Decide(Domain(), {s, Clean()});
  ASSERT_TRUE(Added(v, "X-Spamd-Bar"));
  int status = 0;
  for (const auto& h : v.add_headers) status += h.name == "X-Spam-Status";
  EXPECT_EQ(status, 1);
  EXPECT_EQ(Added(v, "X-Spam-Status")->value.rfind("No,", 0), 0u);
  bool removes_bar = false;
  for (const auto& r : v.remove_headers) removes_bar |= r.name == "X-Spamd-Bar";
  EXPECT_TRUE(removes_bar);
}

TEST(Policy, StatusFoldsLongSymbolLists) {
  std::vector<Symbol> syms;
  for (int i = 0; i < 12; ++i) syms.push_back({"SYMBOL_NUMBER_" + std::to_string(i), 1});
  std::string s = SpamStatusValue(true, 12, 6, syms);
  size_t start = 0;
  size_t first_limit = 78 - 15;  // "X-Spam-Status: "
  for (size_t eol; (eol = s.find("\r\n", start)) != std::string::npos; start = eol + 3) {
    EXPECT_LE(eol - start, start == 0 ? first_limit : 77u) << s;
    EXPECT_EQ(s[eol + 2], '\t');
  }
  EXPECT_NE(s.find("SYMBOL_NUMBER_11"), std::string::npos);
}

TEST(Policy, FormatScore) {
  EXPECT_EQ(FormatScore(7.625), "7.62");  // banker-free printf rounding of a binary value
  EXPECT_EQ(FormatScore(-0.001), "0.00");
  EXPECT_EQ(FormatScore(15), "15.00");
}

TEST(Policy, SamePolicy) {
  DomainConfig off1, off2;
  off1.spam.tag_score = 1;  // ignored while filtering is off
  EXPECT_TRUE(SamePolicy(off1, off2));
  DomainConfig a = Domain(), b = Domain();
  EXPECT_TRUE(SamePolicy(a, b));
  EXPECT_FALSE(SamePolicy(a, off1));
  b.spam.tag_score = 5;
  EXPECT_FALSE(SamePolicy(a, b));
  b = Domain(6, std::nullopt);
  EXPECT_FALSE(SamePolicy(a, b));
  b = Domain(6, 15, "[JUNK]");
  EXPECT_FALSE(SamePolicy(a, b));
}

TEST(Policy, UnfilteredScansNothing) {
  Verdict v = Unfiltered();
  EXPECT_FALSE(v.scanned);
  EXPECT_EQ(v.disposition, Disposition::kAccept);
  EXPECT_TRUE(v.add_headers.empty());
  EXPECT_TRUE(v.remove_headers.empty());
}

}  // namespace
}  // namespace sw::filters
