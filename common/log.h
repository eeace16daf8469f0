// Owns the event log: one line per event, `key=value` pairs, to stderr or a file.
// Fails soft: a write error is ignored (logging never blocks or throws on the data plane).
#pragma once

#include <string>
#include <string_view>

namespace sw::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Builds one line: `ts=2026-11-27T19:56:07.123Z level=info event=queued id=... k=v ...`.
// Values with spaces, quotes or '=' are quoted; control characters are escaped.
class Line {
 public:
  Line(Level level, std::string_view event);
  ~Line();  // writes the line
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  Line& kv(std::string_view key, std::string_view value);
  Line& kv(std::string_view key, const std::string& value) {
    return kv(key, std::string_view(value));
  }
  Line& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  Line& kv(std::string_view key, long long value);
  Line& kv(std::string_view key, unsigned long long value);
  Line& kv(std::string_view key, int value) { return kv(key, static_cast<long long>(value)); }
  Line& kv(std::string_view key, unsigned value) {
    return kv(key, static_cast<unsigned long long>(value));
  }
  Line& kv(std::string_view key, long value) { return kv(key, static_cast<long long>(value)); }
  Line& kv(std::string_view key, unsigned long value) {
    return kv(key, static_cast<unsigned long long>(value));
  }
  Line& kv(std::string_view key, double value);
  Line& kv(std::string_view key, bool value) { return kv(key, value ? "yes" : "no"); }

 private:
  std::string buf_;
  bool enabled_;
};

inline Line Info(std::string_view event) { return Line(Level::kInfo, event); }
inline Line Warn(std::string_view event) { return Line(Level::kWarn, event); }
inline Line Error(std::string_view event) { return Line(Level::kError, event); }
inline Line Debug(std::string_view event) { return Line(Level::kDebug, event); }

// Redirects output to `path` (append); empty: stderr. Returns false if it cannot open.
bool SetFile(const std::string& path);
void SetMinLevel(Level level);

}  // namespace sw::log
