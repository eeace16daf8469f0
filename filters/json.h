// Owns a small JSON reader (RFC 8259) for scanner replies: parse text into a value tree.
// Fails by returning nullopt with an error offset and message; never throws, bounded nesting.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::filters::json {

class Value {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Value() = default;
  static Value Null() { return Value(); }
  static Value Bool(bool b);
  static Value Number(double d);
  static Value String(std::string s);
  static Value Array(std::vector<Value> items);
  // Members keep their document order; a repeated key keeps every occurrence.
  static Value Object(std::vector<std::pair<std::string, Value>> members);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // Typed access with a fallback when the type differs.
  bool AsBool(bool fallback = false) const { return is_bool() ? bool_ : fallback; }
  double AsNumber(double fallback = 0) const { return is_number() ? number_ : fallback; }
  const std::string& AsString() const;  // empty unless a string
  const std::vector<Value>& items() const { return items_; }
  const std::vector<std::pair<std::string, Value>>& members() const { return members_; }

  // The first member named `key` of an object; nullptr when absent or not an object.
  const Value* Find(std::string_view key) const;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> members_;
};

struct ParseError {
  size_t offset = 0;
  std::string message;
};

// Parses one JSON document (surrounding whitespace allowed). Strings are decoded to UTF-8,
// \u escapes included (surrogate pairs joined; a lone surrogate is an error). Nesting deeper
// than `max_depth` is an error.
std::optional<Value> Parse(std::string_view text, ParseError* error = nullptr,
                           size_t max_depth = 64);

}  // namespace sw::filters::json
