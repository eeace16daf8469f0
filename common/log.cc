// Owns formatting and writing of event log lines (one write(2) per line, so lines never mix).
// Fails soft: write errors are ignored; an unopenable file is reported by SetFile's result.
#include "common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace sw::log {
namespace {
std::atomic<int> g_fd{2};
std::atomic<int> g_min{static_cast<int>(Level::kInfo)};

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) return true;
  return false;
}

void AppendValue(std::string& out, std::string_view v) {
  if (!NeedsQuotes(v)) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < ' ' || c == 0x7f) {
      char tmp[8];
      std::snprintf(tmp, sizeof tmp, "\\x%02x", c);
      out.append(tmp);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}
}  // namespace

Line::Line(Level level, std::string_view event)
    : enabled_(static_cast<int>(level) >= g_min.load(std::memory_order_relaxed)) {
  if (!enabled_) return;
  buf_.reserve(256);
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[96];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  buf_.append("ts=").append(ts).append(" level=").append(LevelName(level)).append(" event=");
  AppendValue(buf_, event);
}

Line::~Line() {
  if (!enabled_) return;
  buf_.push_back('\n');
  ssize_t r = ::write(g_fd.load(std::memory_order_relaxed), buf_.data(), buf_.size());
  (void)r;
}

Line& Line::kv(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  buf_.push_back(' ');
  buf_.append(key).push_back('=');
  AppendValue(buf_, value);
  return *this;
}

Line& Line::kv(std::string_view key, long long value) {
  if (!enabled_) return *this;
  buf_.push_back(' ');
  buf_.append(key).push_back('=');
  buf_.append(std::to_string(value));
  return *this;
}

Line& Line::kv(std::string_view key, unsigned long long value) {
  if (!enabled_) return *this;
  buf_.push_back(' ');
  buf_.append(key).push_back('=');
  buf_.append(std::to_string(value));
  return *this;
}

Line& Line::kv(std::string_view key, double value) {
  if (!enabled_) return *this;
  char tmp[32];
  std::snprintf(tmp, sizeof tmp, "%.3f", value);
  buf_.push_back(' ');
  buf_.append(key).push_back('=');
  buf_.append(tmp);
  return *this;
}

bool SetFile(const std::string& path) {
  if (path.empty()) {
    g_fd = 2;
    return true;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return false;
  g_fd = fd;
  return true;
}

void SetMinLevel(Level level) { g_min = static_cast<int>(level); }

}  // namespace sw::log
