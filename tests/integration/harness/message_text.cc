// Owns message-text helpers for assertions: header fields, the gateway's Received header, bodies.
// Fails by empty/nullopt results; pure functions on strings, no I/O.
#include "tests/integration/harness/message_text.h"

#include <strings.h>

#include <ctime>
#include <random>

namespace sw::it {

std::optional<SplitReceived> SplitFirstReceived(const std::string& data) {
  if (data.compare(0, 9, "Received:") != 0) return std::nullopt;
  size_t pos = 0;
  for (;;) {
    size_t eol = data.find("\r\n", pos);
    if (eol == std::string::npos) return std::nullopt;
    pos = eol + 2;
    if (pos >= data.size() || (data[pos] != ' ' && data[pos] != '\t')) break;
  }
  return SplitReceived{data.substr(0, pos), data.substr(pos)};
}

size_t CountHeaderFields(const std::string& data, const std::string& name) {
  size_t n = 0, pos = 0;
  std::string prefix = name + ":";
  while (pos < data.size()) {
    size_t eol = data.find("\r\n", pos);
    if (eol == std::string::npos || eol == pos) break;  // end of the header section
    if (eol - pos >= prefix.size() &&
        strncasecmp(data.data() + pos, prefix.data(), prefix.size()) == 0)
      ++n;
    pos = eol + 2;
  }
  return n;
}

std::string CurrentDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string WithCurrentDate(const std::string& text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) break;
    bool blank = eol == pos || (eol == pos + 1 && text[pos] == '\r');
    if (blank) break;  // end of the header section: no Date field
    if (strncasecmp(text.data() + pos, "Date:", 5) == 0) {
      size_t end = eol;  // keep the line end, replace the value (and any folded lines)
      if (end > pos && text[end - 1] == '\r') --end;
      size_t next = eol + 1;
      while (next < text.size() && (text[next] == ' ' || text[next] == '\t')) {
        size_t e = text.find('\n', next);
        if (e == std::string::npos) break;
        next = e + 1;
      }
      std::string ending = text.substr(end, eol + 1 - end);
      return text.substr(0, pos) + "Date: " + CurrentDate() + ending + text.substr(next);
    }
    pos = eol + 1;
  }
  bool crlf = text.find("\r\n") != std::string::npos;
  return "Date: " + CurrentDate() + (crlf ? "\r\n" : "\n") + text;
}

std::string SimpleMessage(const std::string& marker, const std::string& body) {
  return "From: Sender <sender@client.test>\r\n"
         "To: <user@example.com>\r\n"
         "Subject: test " +
         marker +
         "\r\n"
         "Message-ID: <" +
         marker +
         "@client.test>\r\n"
         "Date: " +
         CurrentDate() +
         "\r\n"
         "\r\n" +
         body;
}

std::string FillerBody(size_t n, unsigned seed) {
  static const char kChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,;:-_!?()[]{}<>=+*/";
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> len_dist(0, 76);
  std::uniform_int_distribution<size_t> char_dist(0, sizeof kChars - 2);
  std::string out;
  out.reserve(n + 80);
  while (out.size() < n) {
    size_t len = len_dist(rng);
    size_t start = out.size();
    for (size_t i = 0; i < len; ++i) out.push_back(kChars[char_dist(rng)]);
    if (len > 0 && rng() % 8 == 0) out[start] = '.';  // lines that need dot-stuffing
    out += "\r\n";
  }
  // Trim to exactly n bytes while keeping a CRLF ending.
  if (out.size() > n && n >= 2) {
    out.resize(n - 2);
    if (!out.empty() && out.back() == '\r') out.back() = 'x';
    out += "\r\n";
  }
  return out;
}

}  // namespace sw::it
