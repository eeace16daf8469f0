// Owns reading the one YAML document of a config text with yaml-cpp, in bounded time: yaml-cpp
// 0.7's LoadAll loops forever on a stray flow entry (", x"). Fails by throwing YAML::Exception.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

namespace sw::config {

struct YamlIssue {
  int line = 1;  // 1-based
  int col = 1;   // 1-based
  std::string message;
};

struct YamlDocument {
  bool present = false;                     // the text holds a document (not only comments)
  YAML::Node root;                          // the first document
  std::optional<YamlIssue> fatal;           // yaml-cpp stuck at a character: root is unusable
  std::optional<YamlIssue> extra_document;  // where a second document starts
};

// Parses `text` (throws YAML::Exception on syntax errors yaml-cpp reports itself).
YamlDocument LoadYamlDocument(const std::string& text);

}  // namespace sw::config
