// Owns the pure SMTP client wire helpers: reply-line parsing, EHLO keywords, dot-stuffing.
// Fails by status: malformed or oversized replies give kError; nothing here throws or does I/O.
#include "routing/smtp_wire.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace sw::routing::wire {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// Digits "1".."999" (no leading sign), returns chars consumed or 0.
size_t ScanNumber(std::string_view s, size_t pos, size_t max_digits) {
  size_t n = 0;
  while (pos + n < s.size() && IsDigit(s[pos + n]) && n < max_digits) ++n;
  if (pos + n < s.size() && IsDigit(s[pos + n])) return 0;  // too many digits
  return n;
}

}  // namespace

bool ParseReplyLine(std::string_view line, ReplyLine* out) {
  if (line.size() < 3) return false;
  if (line[0] < '1' || line[0] > '5' || !IsDigit(line[1]) || !IsDigit(line[2])) return false;
  out->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (line.size() == 3) {
    out->last = true;
    out->text = {};
    return true;
  }
  if (line[3] == '-') {
    out->last = false;
  } else if (line[3] == ' ') {
    out->last = true;
  } else {
    return false;
  }
  out->text = line.substr(4);
  return true;
}

bool SplitEnhanced(std::string_view text, std::string_view* enhanced, std::string_view* rest) {
  // class "." subject "." detail, class in {2,4,5}, subject 1-3 digits, detail 1-3 digits.
  if (text.size() < 5) return false;
  if (text[0] != '2' && text[0] != '4' && text[0] != '5') return false;
  if (text[1] != '.') return false;
  size_t n = ScanNumber(text, 2, 3);
  if (n == 0) return false;
  size_t pos = 2 + n;
  if (pos >= text.size() || text[pos] != '.') return false;
  n = ScanNumber(text, pos + 1, 3);
  if (n == 0) return false;
  pos += 1 + n;
  if (pos < text.size() && text[pos] != ' ') return false;
  *enhanced = text.substr(0, pos);
  size_t start = pos;
  while (start < text.size() && text[start] == ' ') ++start;
  *rest = text.substr(start);
  return true;
}

void ParseEhloKeyword(std::string_view text, Extensions* ext) {
  size_t sp = text.find(' ');
  std::string_view kw = text.substr(0, sp);
  std::string_view param = sp == std::string_view::npos ? std::string_view() : text.substr(sp + 1);
  if (EqualsNoCase(kw, "PIPELINING")) {
    ext->pipelining = true;
  } else if (EqualsNoCase(kw, "SIZE")) {
    ext->size = true;
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(param.data(), param.data() + param.size(), v);
    (void)p;
    ext->max_size = ec == std::errc() ? v : 0;
  } else if (EqualsNoCase(kw, "8BITMIME")) {
    ext->eightbitmime = true;
  } else if (EqualsNoCase(kw, "SMTPUTF8")) {
    ext->smtputf8 = true;
  } else if (EqualsNoCase(kw, "STARTTLS")) {
    ext->starttls = true;
  } else if (EqualsNoCase(kw, "ENHANCEDSTATUSCODES")) {
    ext->enhancedstatuscodes = true;
  }
}

ReplyBuilder::Status ReplyBuilder::Add(std::string_view line) {
  if (line.size() > kMaxReplyLine) {
    error_ = "reply line too long";
    return Status::kError;
  }
  if (++lines_ > kMaxReplyLines) {
    error_ = "reply has too many lines";
    return Status::kError;
  }
  ReplyLine rl;
  if (!ParseReplyLine(line, &rl)) {
    error_ = "malformed reply line";
    return Status::kError;
  }
  if (lines_ > 1 && rl.code != reply_.code) {  // RFC 5321 4.2.1: one code on every line
    error_ = "reply code changed within a multi-line reply";
    return Status::kError;
  }
  std::string_view text = rl.text;
  std::string_view enhanced, rest;
  // Enhanced codes only make sense with 2xx/4xx/5xx replies whose class matches.
  if ((rl.code / 100 == 2 || rl.code / 100 == 4 || rl.code / 100 == 5) &&
      SplitEnhanced(text, &enhanced, &rest) && enhanced[0] - '0' == rl.code / 100) {
    if (reply_.enhanced.empty()) reply_.enhanced.assign(enhanced);
    text = rest;
  }
  if (ext_ != nullptr && lines_ > 1) ParseEhloKeyword(rl.text, ext_);
  if (!text.empty()) {
    if (!reply_.text.empty()) reply_.text.append("; ");
    reply_.text.append(text);
  }
  reply_.code = rl.code;
  return rl.last ? Status::kDone : Status::kMore;
}

bool DotStuffer::Next(std::string& out, size_t max_bytes) {
  if (done_) return false;
  const char* data = body_.data();
  const size_t size = body_.size();
  size_t budget = std::max<size_t>(max_bytes, 8);
  while (budget > 0 && pos_ < size) {
    if (line_start_ && data[pos_] == '.') {
      out.push_back('.');
      line_start_ = false;  // stuffed: never again for this line, even across calls
      if (--budget == 0) break;
    }
    // Copy up to the next line that starts with '.', or up to the budget.
    const size_t limit = std::min(size, pos_ + budget);
    size_t span_end = limit;
    size_t p = pos_;
    while (p < limit) {
      const void* q = std::memchr(data + p, '\n', limit - p);
      if (q == nullptr) break;
      const size_t nl = static_cast<const char*>(q) - data;
      if (nl + 1 < size && data[nl + 1] == '.') {
        span_end = nl + 1;  // <= limit since nl < limit
        break;
      }
      p = nl + 1;
    }
    out.append(data + pos_, span_end - pos_);  // span_end > pos_: at least one byte
    budget -= span_end - pos_;
    pos_ = span_end;
    line_start_ = data[pos_ - 1] == '\n';
  }
  if (pos_ < size) return true;
  if (size > 0 && !(size >= 2 && data[size - 2] == '\r' && data[size - 1] == '\n')) {
    out.append("\r\n");
  }
  out.append(".\r\n");
  done_ = true;
  return false;
}

std::string DotStuff(std::string_view body) {
  std::string out;
  out.reserve(body.size() + body.size() / 64 + 8);
  DotStuffer st(body);
  while (st.Next(out, body.size() + 8)) {
  }
  return out;
}

std::string FormatReply(const SmtpReply& r) {
  std::string s;
  if (r.code == 0) {
    s = "no reply";
    if (!r.text.empty()) s.append(": ").append(r.text);
    return s;
  }
  s = std::to_string(r.code);
  if (!r.enhanced.empty()) s.append(" ").append(r.enhanced);
  if (!r.text.empty()) s.append(" ").append(r.text);
  return s;
}

bool HasLineBreak(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return true;
  return false;
}

}  // namespace sw::routing::wire
