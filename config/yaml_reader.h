// Owns typed reading of a YAML config document: map walks, unknown keys, scalars and lists.
// Fails by collecting located problems; Throw() raises ConfigError with `FILE:LINE:COL: message`.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/problem_text.h"

// Internal to sw_config: the base of the SPEC section 3 loader, not public API.
namespace sw::config::detail {

std::string Lower(std::string_view s);
std::string Trim(std::string_view s);

// Reads a whole file; on failure returns nullopt and sets `error` to strerror(errno).
std::optional<std::string> ReadFile(const std::string& path, std::string* error);

struct Loc {
  int line = 0;  // 1-based; 0 when unknown
  int col = 0;
};

Loc MarkOf(const YAML::Node& node);

// One key of a map with its value, the dotted path for messages and where to point at.
struct Entry {
  std::string key;
  std::string path;
  YAML::Node value;
  Loc key_loc;
  Loc loc;  // of the value; of the key when the value is empty
};

template <typename T>
using Choices = std::vector<std::pair<std::string_view, T>>;

// A schema loader derives from this and reads its sections with the Read* members; every
// problem is kept (with where it is) until Throw() reports them all, sorted by position.
class YamlReader {
 protected:
  explicit YamlReader(std::string name) : name_(std::move(name)) {}
  ~YamlReader() = default;

  // The name problems are reported under (the file path).
  const std::string& Name() const { return name_; }

  // Parses `text` into its root entry; nullopt when the text holds no document (only
  // comments, say). Records a second document as a problem; throws ConfigError at once on a
  // syntax error.
  std::optional<Entry> ReadDocument(const std::string& text);

  // One line per problem, whatever the config holds (a multi-line key, say).
  void Problem(const Loc& loc, const std::string& message);
  size_t ProblemCount() const { return problems_.size(); }

  [[noreturn]] void Throw();

  static std::string Quote(const Entry& e) { return "`" + e.path + "`"; }

  // Walks a map, reporting non-map values, odd keys, duplicates and unknown keys (with a
  // suggestion). `known` empty means any key is accepted. A null value is an empty map.
  void ForEach(const Entry& owner, const std::vector<std::string_view>& known,
               const std::function<void(const Entry&)>& visit);

  // The scalar text of a value, or a problem naming what was expected.
  std::optional<std::string> Scalar(const Entry& e, std::string_view expected);

  void ReadString(const Entry& e, std::string& out, bool allow_empty);
  void ReadUint32(const Entry& e, uint32_t& out, uint32_t min,
                  uint32_t max = std::numeric_limits<uint32_t>::max());
  void ReadDuration(const Entry& e, Duration& out, bool allow_zero);
  void ReadSize(const Entry& e, uint64_t& out, bool allow_zero);
  void ReadBool(const Entry& e, bool& out);

  // A score, or null for "use rspamd's own actions".
  void ReadScore(const Entry& e, std::optional<double>& out);

  // One of `choices` by name (compared in lower case), else a problem with a suggestion.
  template <typename T>
  void ReadChoice(const Entry& e, T& out, const Choices<T>& choices) {
    std::string list;
    std::vector<std::string_view> names;
    for (const auto& [name, value] : choices) {
      list += (list.empty() ? "" : ", ") + std::string(name);
      names.push_back(name);
    }
    auto text = Scalar(e, "one of " + list);
    if (!text) return;
    for (const auto& [name, value] : choices) {
      if (Lower(*text) == name) {
        out = value;
        return;
      }
    }
    Problem(e.loc, Quote(e) + ": expected one of " + list + ", got `" + *text + "`" +
                       Suggest(*text, names));
  }

  // A list of strings (a single string counts as a list of one) with each item's location.
  std::optional<std::vector<std::pair<std::string, Loc>>> ReadList(const Entry& e);

 private:
  struct Located {
    Loc loc;
    std::string message;
  };

  std::string name_;
  std::vector<Located> problems_;
};

}  // namespace sw::config::detail
