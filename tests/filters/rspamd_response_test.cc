// Tests the reading of rspamd /checkv2 replies, with replies captured from the real rspamd 3.4
// (tests/fixtures/checkv2/*.json) and synthetic edge cases. Fails with a GoogleTest assertion.
#include "filters/rspamd_response.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

namespace sw::filters {
namespace {

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(SW_SOURCE_DIR) + "/tests/fixtures/checkv2/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const HeaderField* FindAdd(const FilterResult& r, const std::string& name) {
  for (const auto& h : r.add_headers)
    if (h.name == name) return &h;
  return nullptr;
}

TEST(RspamdResponse, RealHamReply) {
  std::string text = Fixture("ham.json");
  ASSERT_FALSE(text.empty());
  FilterResult r = ParseCheckV2(text);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.filter, "rspamd");
  EXPECT_TRUE(r.has_score);
  EXPECT_NEAR(r.score, 0.2, 0.001);
  EXPECT_EQ(r.required_score, 15.0);
  EXPECT_EQ(r.action, "no action");
  EXPECT_FALSE(r.forced);
  ASSERT_EQ(r.symbols.size(), 10u);
  EXPECT_EQ(r.symbols.front().name, "FORGED_SENDER");  // highest score first
  EXPECT_NEAR(r.symbols.front().score, 0.3, 1e-9);
  EXPECT_EQ(r.symbols.back().name, "MIME_GOOD");  // -0.1 last
  ASSERT_EQ(r.remove_headers.size(), 3u);
  EXPECT_EQ(r.remove_headers[0].name, "Authentication-Results");
  EXPECT_EQ(r.remove_headers[0].index, 0);
  const HeaderField* bar = FindAdd(r, "X-Spamd-Bar");
  ASSERT_TRUE(bar);
  EXPECT_EQ(bar->value, "/");
  const HeaderField* ar = FindAdd(r, "Authentication-Results");
  ASSERT_TRUE(ar);
  EXPECT_EQ(ar->value, "vm;\r\n\tnone");  // folded value kept for NormalizeHeaderValue
}

TEST(RspamdResponse, RealGtubeReplyIsAForcedReject) {
  FilterResult r = ParseCheckV2(Fixture("gtube.json"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.action, "reject");
  EXPECT_TRUE(r.forced);  // is_skipped: a pre-filter decided
  EXPECT_EQ(r.score, 15.0);
  ASSERT_EQ(r.symbols.size(), 1u);
  EXPECT_EQ(r.symbols[0].name, "GTUBE");
  EXPECT_TRUE(r.add_headers.empty());
}

TEST(RspamdResponse, RealAddHeaderReply) {
  FilterResult r = ParseCheckV2(Fixture("spammy.json"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.action, "add header");
  EXPECT_NEAR(r.score, 7.625, 1e-9);
  EXPECT_EQ(r.symbols[0].name, "SUBJ_ALL_CAPS");
  EXPECT_EQ(r.symbols[1].name, "MISSING_MID");
  const HeaderField* level = FindAdd(r, "X-Spam-Level");
  ASSERT_TRUE(level);
  EXPECT_EQ(level->value, "*******");
}

TEST(RspamdResponse, SoftRejectRewriteSubjectAndHeaderForms) {
  FilterResult r = ParseCheckV2(R"({"score": 9.5, "required_score": 15, "action": "soft reject",
      "symbols": {"A": {"name": "A", "score": 1}, "B": {"score": 2}},
      "milter": {"add_headers": {"X-One": "1", "X-Two": [{"value": "a", "order": 0}, "b"],
                                 "X-Bad": 5},
                 "remove_headers": {"X-Old": 2, "X-Last": -1}}})");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.action, "soft reject");
  ASSERT_EQ(r.symbols.size(), 2u);
  EXPECT_EQ(r.symbols[0].name, "B");  // name from the key when absent
  ASSERT_EQ(r.add_headers.size(), 3u);
  EXPECT_EQ(r.add_headers[0].name, "X-One");
  EXPECT_EQ(r.add_headers[1].value, "a");
  EXPECT_EQ(r.add_headers[2].value, "b");
  ASSERT_EQ(r.remove_headers.size(), 2u);
  EXPECT_EQ(r.remove_headers[0].index, 2);
  EXPECT_EQ(r.remove_headers[1].index, -1);

  FilterResult s =
      ParseCheckV2(R"({"score": 6, "action": "rewrite subject", "subject": "*** SPAM *** hi"})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.subject, "*** SPAM *** hi");
}

TEST(RspamdResponse, BadRepliesFail) {
  EXPECT_EQ(ParseCheckV2("not json").outcome, FilterOutcome::kFailed);
  EXPECT_EQ(ParseCheckV2("[1]").outcome, FilterOutcome::kFailed);
  EXPECT_EQ(ParseCheckV2(R"({"action": "no action"})").outcome, FilterOutcome::kFailed);
  EXPECT_EQ(ParseCheckV2(R"({"score": "1", "action": "no action"})").outcome,
            FilterOutcome::kFailed);
  FilterResult e = ParseCheckV2(R"({"error": "cannot parse message"})");
  EXPECT_EQ(e.outcome, FilterOutcome::kFailed);
  EXPECT_EQ(e.error, "rspamd error: cannot parse message");
}

// What the reader accepted before it was Boost.JSON, pinned: the grammar, nesting up to 64,
// invalid UTF-8 kept as bytes, integers as numbers, overflowing numbers as infinite.
TEST(RspamdResponse, JsonReaderLimits) {
  auto reply = [](const std::string& extra) {
    return ParseCheckV2(R"({"score": 1, "action": "no action")" + extra + "}");
  };
  EXPECT_TRUE(reply("").ok());
  EXPECT_TRUE(reply(R"(, "x": "caf\u00e9 \ud83d\ude00")").ok());
  FilterResult raw =
      ParseCheckV2("{\"score\": 1, \"action\": \"no action\", \"subject\": \"a\xff\"}");
  ASSERT_TRUE(raw.ok()) << raw.error;
  EXPECT_EQ(raw.subject, "a\xff");
  std::string deep63 = std::string(63, '[') + std::string(63, ']');  // 64 with the object
  EXPECT_TRUE(reply(", \"x\": " + deep63).ok());
  EXPECT_FALSE(reply(", \"x\": [" + deep63 + "]").ok());
  for (const char* bad : {R"(, "x": "\ud800")", R"(, "x": "\udc00")", R"(, "x": 01)",
                          R"(, "x": 1.)", R"(, "x": .5)", R"(, "x": +1)", ",", "// c\n"})
    EXPECT_FALSE(reply(bad).ok()) << bad;
  EXPECT_FALSE(ParseCheckV2(R"({"score": 1, "action": "no action"} x)").ok());
  EXPECT_FALSE(ParseCheckV2("").ok());

  FilterResult big = ParseCheckV2(R"({"score": 18446744073709551615, "action": "reject",
      "required_score": 1e400, "symbols": {"A": {"score": 1e400}, "B": {"score": -3}}})");
  ASSERT_TRUE(big.ok()) << big.error;
  EXPECT_EQ(big.score, 18446744073709551615.0);
  EXPECT_TRUE(std::isinf(big.required_score));
  ASSERT_EQ(big.symbols.size(), 2u);
  EXPECT_EQ(big.symbols[0].name, "A");  // an infinite symbol score counts as 0
  EXPECT_EQ(big.symbols[0].score, 0);
  EXPECT_EQ(ParseCheckV2(R"({"score": 1e400, "action": "reject"})").outcome,
            FilterOutcome::kFailed);

  FilterResult e = ParseCheckV2(R"({"score": 1,})");
  EXPECT_EQ(e.error.rfind("bad JSON at offset 12: ", 0), 0u) << e.error;
}

}  // namespace
}  // namespace sw::filters
