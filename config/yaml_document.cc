// Owns reading the one YAML document of a config text with yaml-cpp, in bounded time: yaml-cpp
// 0.7's LoadAll loops forever on a stray flow entry (", x"). Fails by throwing YAML::Exception.
#include "config/yaml_document.h"

#include <yaml-cpp/eventhandler.h>

#include <sstream>
#include <vector>

namespace sw::config {

namespace {

// Records where each document starts; the node events themselves are not needed.
class DocumentStarts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

YamlIssue IssueAt(const YAML::Mark& m, std::string message) {
  return {m.line + 1, m.column + 1, std::move(message)};
}

}  // namespace

YamlDocument LoadYamlDocument(const std::string& text) {
  YamlDocument doc;
  // First pass: at most four documents. yaml-cpp reports a document start without consuming
  // anything when it cannot place a character: two starts at one position mean it is stuck.
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  for (int i = 0; i < 4 && parser.HandleNextDocument(starts); ++i) {
  }
  const auto& s = starts.starts;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i].pos == s[i - 1].pos) {
      size_t at = static_cast<size_t>(s[i].pos);
      std::string what = at < text.size() ? std::string(1, text[at]) : "end of file";
      doc.fatal = IssueAt(
          s[i], "unexpected `" + what + "`: expected `key: value`, `- item` or a comment here");
      return doc;
    }
  }
  if (s.empty()) return doc;
  if (s.size() > 1) doc.extra_document = IssueAt(s[1], "only one YAML document is allowed");
  doc.present = true;
  doc.root = YAML::Load(text);
  return doc;
}

}  // namespace sw::config
