// Tests corpus input: labels from paths, mbox splitting and unescaping, directory listing
// (maildir cur/new, tmp and hidden files skipped), unreadable files as error rows.
#include "qa/corpus_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace sw::qa {
namespace {

namespace fs = std::filesystem;

class TempTree {
 public:
  TempTree() {
    std::string t = (fs::temp_directory_path() / "sw-qa-XXXXXX").string();
    root_ = mkdtemp(t.data());
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string Write(const std::string& rel, const std::string& text) {
    fs::path p = fs::path(root_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

std::vector<CorpusMessage> ReadAll(CorpusReader& r) {
  std::vector<CorpusMessage> out;
  CorpusMessage m;
  while (r.Next(&m)) out.push_back(m);
  return out;
}

TEST(LabelFromPathTest, ComponentsNamingSpamOrHam) {
  EXPECT_EQ(LabelFromPath("corpus/spam-2/00001.eml"), Label::kSpam);
  EXPECT_EQ(LabelFromPath("corpus/easy-ham-1/00001.eml"), Label::kHam);
  EXPECT_EQ(LabelFromPath("hard-ham-1/x"), Label::kHam);
  EXPECT_EQ(LabelFromPath("/data/Spam/cur/1:2,S"), Label::kSpam);
  EXPECT_EQ(LabelFromPath("/data/hams/msg"), Label::kHam);
  EXPECT_EQ(LabelFromPath("spam2024.mbox"), Label::kSpam);
  EXPECT_EQ(LabelFromPath("/data/ham.mbox"), Label::kHam);
}

TEST(LabelFromPathTest, NearestComponentWins) {
  EXPECT_EQ(LabelFromPath("/spam/reviewed/ham/1.eml"), Label::kHam);
  EXPECT_EQ(LabelFromPath("/ham/spam-traps/1.eml"), Label::kSpam);
}

TEST(LabelFromPathTest, NoLabel) {
  EXPECT_EQ(LabelFromPath("/opt/spamweeder/mail/1.eml"), Label::kUnknown);
  EXPECT_EQ(LabelFromPath("/home/graham/mail/1.eml"), Label::kUnknown);
  EXPECT_EQ(LabelFromPath("/x/spam-vs-ham/1.eml"), Label::kUnknown);
  EXPECT_EQ(LabelFromPath(""), Label::kUnknown);
}

TEST(ParseLabelTest, SpamAndHamOnly) {
  EXPECT_EQ(ParseLabel("SPAM"), Label::kSpam);
  EXPECT_EQ(ParseLabel("ham"), Label::kHam);
  EXPECT_FALSE(ParseLabel("eggs"));
  EXPECT_STREQ(LabelName(Label::kUnknown), "");
}

TEST(MboxTest, SplitsOnFromLinesAndUnescapes) {
  std::string mbox =
      "From alice@example.com Thu Nov 27 10:00:00 2026\n"
      "Subject: one\n\nbody one\n>From the start\n>>From deeper\n\n"
      "From bob@example.com Thu Nov 27 10:01:00 2026\n"
      "Subject: two\n\nbody two\n";
  ASSERT_TRUE(IsMbox(mbox));
  auto msgs = SplitMbox(mbox);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0], "Subject: one\n\nbody one\nFrom the start\n>From deeper\n");
  EXPECT_EQ(msgs[1], "Subject: two\n\nbody two\n");
}

TEST(MboxTest, CrlfMbox) {
  auto msgs = SplitMbox("From a\r\nX: 1\r\n\r\nb\r\n\r\nFrom b\r\nX: 2\r\n\r\nc\r\n");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0], "X: 1\r\n\r\nb\r\n");
  EXPECT_EQ(msgs[1], "X: 2\r\n\r\nc\r\n");
  EXPECT_FALSE(IsMbox("Subject: x\n\nFrom here\n"));
}

TEST(CorpusReaderTest, DirectoriesMaildirAndMbox) {
  TempTree t;
  t.Write("spam-1/b.eml", "Subject: b\n\nb\n");
  t.Write("spam-1/a.eml", "Subject: a\n\na\n");
  t.Write("spam-1/.hidden", "x");
  t.Write("easy-ham/cur/1:2,S", "Subject: cur\n\n");
  t.Write("easy-ham/new/2", "Subject: new\n\n");
  t.Write("easy-ham/tmp/3", "Subject: being delivered\n\n");
  t.Write("misc/list.mbox", "From x\nSubject: m1\n\n1\n\nFrom y\nSubject: m2\n\n2\n");
  auto files = ListCorpus({t.root()}, Label::kUnknown);
  CorpusReader reader(std::move(files));
  auto msgs = ReadAll(reader);
  ASSERT_EQ(msgs.size(), 6u);
  // Sorted: easy-ham (cur, new), misc, spam-1 (a, b).
  EXPECT_EQ(msgs[0].path, t.root() + "/easy-ham/cur/1:2,S");
  EXPECT_EQ(msgs[0].label, Label::kHam);
  EXPECT_EQ(msgs[0].group, "easy-ham");
  EXPECT_EQ(msgs[1].data, "Subject: new\n\n");
  EXPECT_EQ(msgs[1].group, "easy-ham");
  EXPECT_EQ(msgs[2].path, t.root() + "/misc/list.mbox#1");
  EXPECT_EQ(msgs[2].data, "Subject: m1\n\n1\n");
  EXPECT_EQ(msgs[2].label, Label::kUnknown);
  EXPECT_EQ(msgs[3].path, t.root() + "/misc/list.mbox#2");
  EXPECT_EQ(msgs[4].path, t.root() + "/spam-1/a.eml");
  EXPECT_EQ(msgs[4].label, Label::kSpam);
  EXPECT_EQ(msgs[4].group, "spam-1");
  EXPECT_EQ(msgs[5].data, "Subject: b\n\nb\n");
  for (const auto& m : msgs) EXPECT_TRUE(m.error.empty()) << m.path;
}

TEST(CorpusReaderTest, ForcedLabelWins) {
  TempTree t;
  std::string f = t.Write("spam/x.eml", "Subject: x\n\n");
  CorpusReader reader(ListCorpus({f}, Label::kHam));
  auto msgs = ReadAll(reader);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].label, Label::kHam);
  EXPECT_EQ(msgs[0].group, "spam");
}

TEST(CorpusReaderTest, UnreadableFilesAreRowsNotCrashes) {
  TempTree t;
  t.Write("ham/ok.eml", "Subject: ok\n\n");
  fs::create_symlink(t.root() + "/nowhere", t.root() + "/ham/dangling.eml");
  auto files = ListCorpus({t.root(), t.root() + "/missing"}, Label::kUnknown);
  CorpusReader reader(std::move(files));
  auto msgs = ReadAll(reader);
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0].path, t.root() + "/ham/dangling.eml");
  EXPECT_FALSE(msgs[0].error.empty());
  EXPECT_TRUE(msgs[0].data.empty());
  EXPECT_TRUE(msgs[1].error.empty());
  EXPECT_EQ(msgs[2].path, t.root() + "/missing");
  EXPECT_FALSE(msgs[2].error.empty());
}

TEST(CorpusReaderTest, SingleMessageWithSeparatorKeepsFileName) {
  TempTree t;
  std::string f = t.Write("one.eml", "From someone Thu Nov 27\nSubject: s\n\nx\n");
  CorpusReader reader(ListCorpus({f}, Label::kUnknown));
  auto msgs = ReadAll(reader);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].path, f);
  EXPECT_EQ(msgs[0].data, "Subject: s\n\nx\n");
}

}  // namespace
}  // namespace sw::qa
