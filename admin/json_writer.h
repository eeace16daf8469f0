// Owns JSON text output for the admin API: objects, arrays, escaped strings, numbers.
// Cannot fail: invalid UTF-8 becomes U+FFFD, non-finite numbers become null; misuse asserts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sw::admin {

// Streaming writer; commas and colons are placed automatically.
//   JsonWriter w; w.BeginObject(); w.Key("a"); w.Int(1); w.EndObject(); w.str() == {"a":1}
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& UInt(uint64_t v);
  JsonWriter& Double(double v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();

  // Shorthands for `Key(k)` followed by a value.
  JsonWriter& Field(std::string_view k, std::string_view v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, const char* v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, const std::string& v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, int64_t v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, uint64_t v) { return Key(k).UInt(v); }
  JsonWriter& Field(std::string_view k, int v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, unsigned v) { return Key(k).UInt(v); }
  JsonWriter& Field(std::string_view k, bool v) { return Key(k).Bool(v); }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  std::string out_;
  // One entry per open container: true while no element has been written yet.
  std::vector<bool> first_;
  bool after_key_ = false;
};

// `s` as a JSON string literal with quotes: `"`, `\` and control characters escaped, valid
// UTF-8 passed through, each byte of an invalid sequence replaced by U+FFFD.
void AppendJsonString(std::string& out, std::string_view s);
std::string JsonString(std::string_view s);

}  // namespace sw::admin
