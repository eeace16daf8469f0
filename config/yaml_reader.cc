// Owns typed reading of a YAML config document: map walks, unknown keys, scalars and lists.
// Fails by collecting located problems; Throw() raises ConfigError with `FILE:LINE:COL: message`.
#include "config/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <tuple>

#include "config/yaml_document.h"

namespace sw::config::detail {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(s[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(s[end - 1]))) --end;
  return std::string(s.substr(begin, end - begin));
}

std::optional<std::string> ReadFile(const std::string& path, std::string* error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    *error = std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  bool failed = std::ferror(file) != 0;
  int saved = errno;
  std::fclose(file);
  if (failed) {
    *error = std::strerror(saved);
    return std::nullopt;
  }
  return text;
}

Loc MarkOf(const YAML::Node& node) {
  if (!node.IsDefined()) return {};
  YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

std::optional<Entry> YamlReader::ReadDocument(const std::string& text) {
  YamlDocument doc;
  try {
    doc = LoadYamlDocument(text);
  } catch (const YAML::Exception& e) {
    Loc loc = e.mark.is_null() ? Loc{} : Loc{e.mark.line + 1, e.mark.column + 1};
    bool tab_indent = text.find("\n\t") != std::string::npos || text.rfind('\t', 0) == 0;
    Problem(loc, e.msg + (tab_indent ? " (tabs cannot indent YAML; use spaces)" : ""));
    Throw();
  }
  if (doc.fatal) {
    Problem({doc.fatal->line, doc.fatal->col}, doc.fatal->message);
    Throw();
  }
  if (doc.extra_document)
    Problem({doc.extra_document->line, doc.extra_document->col}, doc.extra_document->message);
  if (!doc.present) return std::nullopt;
  Entry root{"", "", doc.root, {1, 1}, {1, 1}};
  if (!doc.root.IsNull()) root.loc = MarkOf(doc.root);
  return root;
}

void YamlReader::Problem(const Loc& loc, const std::string& message) {
  problems_.push_back({loc, OneLine(message)});
}

void YamlReader::Throw() {
  std::stable_sort(problems_.begin(), problems_.end(), [](const Located& a, const Located& b) {
    return std::tie(a.loc.line, a.loc.col) < std::tie(b.loc.line, b.loc.col);
  });
  std::vector<std::string> lines;
  for (const auto& p : problems_) {
    if (p.loc.line > 0) {
      lines.push_back(name_ + ":" + std::to_string(p.loc.line) + ":" + std::to_string(p.loc.col) +
                      ": " + p.message);
    } else {
      lines.push_back(name_ + ": " + p.message);
    }
  }
  throw ConfigError(std::move(lines));
}

void YamlReader::ForEach(const Entry& owner, const std::vector<std::string_view>& known,
                         const std::function<void(const Entry&)>& visit) {
  if (owner.value.IsNull()) return;
  if (!owner.value.IsMap()) {
    Problem(owner.loc, (owner.path.empty() ? std::string("the configuration") : Quote(owner)) +
                           " must be a map of keys");
    return;
  }
  std::set<std::string> seen;
  for (auto it = owner.value.begin(); it != owner.value.end(); ++it) {
    Loc key_loc = MarkOf(it->first);
    if (!it->first.IsScalar()) {
      Problem(key_loc, "keys must be plain strings");
      continue;
    }
    Entry entry;
    entry.key = it->first.Scalar();
    entry.path = owner.path.empty() ? entry.key : owner.path + "." + entry.key;
    entry.value = it->second;
    entry.key_loc = key_loc;
    entry.loc = it->second.IsNull() ? key_loc : MarkOf(it->second);
    if (entry.loc.line == 0) entry.loc = key_loc;
    if (!seen.insert(entry.key).second) {
      Problem(key_loc, "duplicate key " + Quote(entry));
      continue;
    }
    if (!known.empty() && std::find(known.begin(), known.end(), entry.key) == known.end()) {
      Problem(key_loc, "unknown key " + Quote(entry) + Suggest(entry.key, known));
      continue;
    }
    visit(entry);
  }
}

std::optional<std::string> YamlReader::Scalar(const Entry& e, std::string_view expected) {
  if (e.value.IsScalar()) return e.value.Scalar();
  Problem(e.loc, Quote(e) + ": expected " + std::string(expected) +
                     (e.value.IsNull() ? ", got nothing" : ", got a list or map"));
  return std::nullopt;
}

void YamlReader::ReadString(const Entry& e, std::string& out, bool allow_empty) {
  if (allow_empty && e.value.IsNull()) {
    out.clear();
    return;
  }
  auto text = Scalar(e, "a string");
  if (!text) return;
  if (!allow_empty && Trim(*text).empty()) {
    Problem(e.loc, Quote(e) + " must not be empty");
    return;
  }
  out = *text;
}

void YamlReader::ReadUint32(const Entry& e, uint32_t& out, uint32_t min, uint32_t max) {
  std::string range = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  auto text = Scalar(e, range);
  if (!text) return;
  bool digits =
      !text->empty() && text->size() <= 10 &&
      std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '9'; });
  uint64_t value = digits ? std::stoull(*text) : 0;
  if (!digits || value < min || value > max) {
    Problem(e.loc, Quote(e) + ": expected " + range + ", got `" + *text + "`");
    return;
  }
  out = static_cast<uint32_t>(value);
}

void YamlReader::ReadDuration(const Entry& e, Duration& out, bool allow_zero) {
  auto text = Scalar(e, "a duration such as 500ms, 30s, 5m, 4h or 30d");
  if (!text) return;
  auto value = ParseDuration(*text);
  if (!value) {
    Problem(e.loc, Quote(e) + ": bad duration `" + *text + "` (use 500ms, 30s, 5m, 4h or 30d)");
  } else if (!allow_zero && value->count() == 0) {
    Problem(e.loc, Quote(e) + " must be longer than 0");
  } else {
    out = *value;
  }
}

void YamlReader::ReadSize(const Entry& e, uint64_t& out, bool allow_zero) {
  auto text = Scalar(e, "a size such as 1048576, 64KiB or 50MiB");
  if (!text) return;
  auto value = ParseSize(*text);
  if (!value) {
    Problem(e.loc, Quote(e) + ": bad size `" + *text + "` (use bytes, KiB, MiB or GiB)");
  } else if (!allow_zero && *value == 0) {
    Problem(e.loc, Quote(e) + " must be larger than 0");
  } else {
    out = *value;
  }
}

void YamlReader::ReadBool(const Entry& e, bool& out) {
  auto text = Scalar(e, "true or false");
  if (!text) return;
  std::string word = Lower(*text);
  if (word == "true" || word == "yes" || word == "on") {
    out = true;
  } else if (word == "false" || word == "no" || word == "off") {
    out = false;
  } else {
    Problem(e.loc, Quote(e) + ": expected true or false, got `" + *text + "`");
  }
}

void YamlReader::ReadScore(const Entry& e, std::optional<double>& out) {
  if (e.value.IsNull()) {
    out.reset();
    return;
  }
  auto text = Scalar(e, "a score or null");
  if (!text) return;
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(text->c_str(), &end);
  if (text->empty() || end != text->c_str() + text->size() || errno != 0 || !std::isfinite(value) ||
      std::isspace(static_cast<unsigned char>((*text)[0]))) {
    Problem(e.loc, Quote(e) + ": expected a number or null, got `" + *text + "`");
    return;
  }
  out = value;
}

std::optional<std::vector<std::pair<std::string, Loc>>> YamlReader::ReadList(const Entry& e) {
  std::vector<std::pair<std::string, Loc>> items;
  if (e.value.IsScalar()) {
    items.emplace_back(e.value.Scalar(), e.loc);
    return items;
  }
  if (!e.value.IsSequence()) {
    Problem(e.loc, Quote(e) + ": expected a list of strings");
    return std::nullopt;
  }
  bool ok = true;
  for (const auto& item : e.value) {
    Loc loc = MarkOf(item);
    if (loc.line == 0) loc = e.loc;
    if (!item.IsScalar()) {
      Problem(loc, Quote(e) + ": each item must be a string");
      ok = false;
      continue;
    }
    items.emplace_back(item.Scalar(), loc);
  }
  if (!ok) return std::nullopt;
  return items;
}

}  // namespace sw::config::detail
