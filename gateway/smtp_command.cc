// Owns parsing of inbound SMTP command lines: verb, MAIL/RCPT paths and ESMTP parameters.
// Fails by result: a ParseError with the RFC 5321 reply the session should send.
#include "gateway/smtp_command.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/header_text.h"

namespace sw::gateway {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool IStartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && IEquals(s.substr(0, prefix.size()), prefix);
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsAtext(unsigned char c) {
  if (c >= 0x80) return true;  // UTF-8 (SMTPUTF8 checked by the session)
  if (std::isalnum(c)) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

bool ValidDotString(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char c : s) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!IsAtext(static_cast<unsigned char>(c))) {
      return false;
    }
    prev = c;
  }
  return true;
}

// Quoted-string: '"' *(qtextSMTP / "\" any) '"'. Returns the unquoted text.
std::optional<std::string> Unquote(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
  std::string out;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      if (i + 2 >= s.size()) return std::nullopt;
      // quoted-pairSMTP is a backslash and a printable character: no escaped CR, LF or NUL.
      unsigned char e = static_cast<unsigned char>(s[++i]);
      if (e < 32 || e == 127) return std::nullopt;
      out.push_back(static_cast<char>(e));
    } else if (c == '"' || c < 32 || c == 127) {
      return std::nullopt;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

bool ValidDomain(std::string_view d) {
  if (d.empty() || d.size() > 255) return false;
  size_t label = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(d[i]);
    if (c == '.') {
      if (label == 0 || d[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    if (!(std::isalnum(c) || c == '-' || c >= 0x80)) return false;
    if (label == 0 && c == '-') return false;
    if (++label > 63) return false;
  }
  return label > 0 && d.back() != '-';
}

// RFC 5321 dcontent: printable US-ASCII but '[', '\\' and ']'.
bool ValidLiteralContent(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == '[' || c == '\\' || c == ']') return false;
  }
  return true;
}

bool IsAsciiAlnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// "[192.0.2.1]" or "[IPv6:2001:db8::1]" (the tag case-insensitive).
bool ValidHostLiteral(std::string_view s) {
  if (s.size() < 3 || s.front() != '[' || s.back() != ']') return false;
  std::string inner(s.substr(1, s.size() - 2));
  unsigned char addr[16];
  if (IStartsWith(inner, "IPv6:")) return inet_pton(AF_INET6, inner.c_str() + 5, addr) == 1;
  return inet_pton(AF_INET, inner.c_str(), addr) == 1;
}

bool ValidHeloName(std::string_view d) {
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  if (d.empty() || d.size() > 255 || !IsHeaderText(d, TextCharset::kUtf8)) return false;
  size_t label = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(d[i]);
    if (c == '.') {
      if (label == 0 || d[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    if (!(IsAsciiAlnum(c) || c == '-' || c == '_' || c >= 0x80)) return false;
    if (label == 0 && c == '-') return false;
    if (++label > 63) return false;
  }
  return d.back() != '-';
}

struct Path {
  std::string address;
  std::string local;
  std::string domain;
  bool literal = false;
  std::string_view rest;  // parameters after '>'
};

// The position of the '>' closing the path that starts at s[0] ('<'), outside a quoted
// string; npos when there is none.
size_t PathEnd(std::string_view s) {
  bool quoted = false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (quoted && s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] == '"') quoted = !quoted;
    if (!quoted && s[i] == '>') return i;
  }
  return std::string_view::npos;
}

// "local@domain" (a source route already removed) into `p`; false when malformed.
bool SplitMailbox(std::string_view inner, Path& p, Reply* error) {
  size_t at = inner.rfind('@');
  *error = {501, "5.1.3 Bad address syntax"};
  if (at == std::string_view::npos || at == 0 || at + 1 == inner.size()) return false;
  std::string_view local = inner.substr(0, at);
  std::string_view domain = inner.substr(at + 1);
  if (local.size() > 64 * 4 || domain.size() > 255) {
    *error = {501, "5.1.3 Address too long"};
    return false;
  }
  if (local.front() == '"') {
    auto uq = Unquote(local);
    if (!uq) return false;
    p.local = *uq;
  } else if (ValidDotString(local)) {
    p.local = std::string(local);
  } else {
    return false;
  }
  if (domain.front() == '[') {
    if (domain.back() != ']' || !ValidLiteralContent(domain.substr(1, domain.size() - 2)))
      return false;
    p.literal = true;
    p.domain = std::string(domain);
  } else {
    if (!ValidDomain(domain)) return false;
    p.domain.reserve(domain.size());
    for (char c : domain)
      p.domain.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (!p.domain.empty() && p.domain.back() == '.') p.domain.pop_back();
  }
  p.address = std::string(inner);
  return true;
}

// Parses "<...>" at the start of `s`; `allow_null` for MAIL FROM:<>.
Parsed<Path> ParsePath(std::string_view s, bool allow_null) {
  Parsed<Path> r;
  s = TrimLeft(s);
  if (s.empty() || s.front() != '<') {
    r.error = {501, "5.5.4 Syntax: address must be in angle brackets"};
    return r;
  }
  size_t end = PathEnd(s);
  if (end == std::string_view::npos) {
    r.error = {501, "5.5.4 Syntax: missing '>'"};
    return r;
  }
  std::string_view inner = s.substr(1, end - 1);
  Path p;
  p.rest = s.substr(end + 1);
  if (!p.rest.empty() && p.rest.front() != ' ') {
    r.error = {501, "5.5.4 Syntax: junk after address"};
    return r;
  }
  if (inner.empty()) {
    if (!allow_null) {
      r.error = {501, "5.1.3 Bad recipient address syntax"};
      return r;
    }
    r.value = std::move(p);
    return r;
  }
  // Source route "@a,@b:user@dom": ignored as RFC 5321 allows.
  if (inner.front() == '@') {
    size_t colon = inner.find(':');
    if (colon == std::string_view::npos) {
      r.error = {501, "5.1.3 Bad address syntax"};
      return r;
    }
    inner = inner.substr(colon + 1);
  }
  Reply error{0, ""};
  if (!SplitMailbox(inner, p, &error)) {
    r.error = error;
    return r;
  }
  r.value = std::move(p);
  return r;
}

}  // namespace

bool IsNonAscii(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

CommandLine SplitCommand(std::string_view line) {
  CommandLine c;
  size_t sp = line.find(' ');
  std::string_view verb = line.substr(0, sp);
  c.args =
      sp == std::string_view::npos ? std::string_view() : TrimRight(TrimLeft(line.substr(sp + 1)));
  static constexpr std::pair<std::string_view, Verb> kVerbs[] = {
      {"EHLO", Verb::kEhlo},           {"HELO", Verb::kHelo},
      {"MAIL", Verb::kMail},           {"RCPT", Verb::kRcpt},
      {"DATA", Verb::kData},           {"RSET", Verb::kRset},
      {"NOOP", Verb::kNoop},           {"QUIT", Verb::kQuit},
      {"VRFY", Verb::kVrfy},           {"HELP", Verb::kHelp},
      {"STARTTLS", Verb::kStartTls},   {"EXPN", Verb::kNotImplemented},
      {"AUTH", Verb::kNotImplemented}, {"TURN", Verb::kNotImplemented},
      {"ETRN", Verb::kNotImplemented}, {"BDAT", Verb::kNotImplemented},
      {"ATRN", Verb::kNotImplemented},
  };
  for (const auto& [name, v] : kVerbs)
    if (IEquals(verb, name)) {
      c.verb = v;
      return c;
    }
  c.verb = Verb::kUnknown;
  return c;
}

Parsed<std::string> ParseHelo(std::string_view args) {
  Parsed<std::string> r;
  std::string text(args);
  unsigned char addr[16];
  // inet_pton stops at a NUL: none may hide behind a valid prefix.
  if (args.empty() || args.size() > 255 || args.find('\0') != std::string_view::npos ||
      !(ValidHeloName(args) || ValidHostLiteral(args) ||
        inet_pton(AF_INET6, text.c_str(), addr) == 1)) {
    r.error = {501, "5.5.4 Helo command rejected: invalid name (a domain or an address literal)"};
    return r;
  }
  r.value = std::move(text);
  return r;
}

Parsed<MailParams> ParseMail(std::string_view args) {
  Parsed<MailParams> r;
  if (!IStartsWith(args, "FROM:")) {
    r.error = {501, "5.5.4 Syntax: MAIL FROM:<address>"};
    return r;
  }
  auto path = ParsePath(args.substr(5), true);
  if (!path.value) {
    r.error = path.error;
    return r;
  }
  if (path.value->literal || !path.value->domain.empty() || !path.value->address.empty()) {
    // Sender's domain literal is fine; nothing to check here.
  }
  MailParams m;
  m.address = path.value->address;
  std::string_view rest = TrimLeft(path.value->rest);
  while (!rest.empty()) {
    size_t sp = rest.find(' ');
    std::string_view param = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : TrimLeft(rest.substr(sp));
    size_t eq = param.find('=');
    std::string_view key = param.substr(0, eq);
    std::string_view val = eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    if (IEquals(key, "SIZE") && eq != std::string_view::npos) {
      uint64_t n = 0;
      auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), n);
      if (ec != std::errc() || p != val.data() + val.size() || val.empty()) {
        r.error = {501, "5.5.4 Bad SIZE parameter"};
        return r;
      }
      m.size = n;
    } else if (IEquals(key, "BODY") && eq != std::string_view::npos) {
      if (IEquals(val, "8BITMIME"))
        m.eightbit = true;
      else if (!IEquals(val, "7BIT")) {
        r.error = {501, "5.5.4 Bad BODY parameter"};
        return r;
      }
    } else if (IEquals(key, "SMTPUTF8") && eq == std::string_view::npos) {
      m.smtputf8 = true;
    } else {
      r.error = {555, "5.5.4 Unsupported parameter"};
      return r;
    }
  }
  r.value = std::move(m);
  return r;
}

Parsed<RcptParams> ParseRcpt(std::string_view args) {
  Parsed<RcptParams> r;
  if (!IStartsWith(args, "TO:")) {
    r.error = {501, "5.5.4 Syntax: RCPT TO:<address>"};
    return r;
  }
  auto path = ParsePath(args.substr(3), false);
  if (!path.value) {
    r.error = path.error;
    return r;
  }
  if (!TrimLeft(path.value->rest).empty()) {
    r.error = {555, "5.5.4 Unsupported parameter"};
    return r;
  }
  RcptParams p;
  p.address = std::move(path.value->address);
  p.local = std::move(path.value->local);
  p.domain = std::move(path.value->domain);
  p.domain_literal = path.value->literal;
  r.value = std::move(p);
  return r;
}

}  // namespace sw::gateway
