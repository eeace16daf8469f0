// Owns parsing of inbound SMTP command lines: verb, MAIL/RCPT paths and ESMTP parameters.
// Fails by result: a ParseError with the RFC 5321 reply the session should send.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sw::gateway {

enum class Verb {
  kEhlo,
  kHelo,
  kMail,
  kRcpt,
  kData,
  kRset,
  kNoop,
  kQuit,
  kVrfy,
  kHelp,
  kStartTls,
  kNotImplemented,  // EXPN, AUTH, TURN, ETRN, BDAT, ...: recognized, not offered
  kUnknown
};

struct CommandLine {
  Verb verb = Verb::kUnknown;
  std::string_view args;  // text after the verb, leading spaces removed
};

// Splits "VERB args" (line without CRLF). Case-insensitive verbs.
CommandLine SplitCommand(std::string_view line);

struct Reply {
  int code;
  const char* text;  // "5.5.4 Syntax: ..." (enhanced code first)
};

struct MailParams {
  std::string address;  // empty: null sender
  std::optional<uint64_t> size;
  bool eightbit = false;
  bool smtputf8 = false;
};

struct RcptParams {
  std::string address;  // local@domain as given (quotes kept)
  std::string local;    // local part, unquoted
  std::string domain;   // lower-cased domain, or "[...]" for an address literal
  bool domain_literal = false;
};

// A parse outcome: either a value or the reply to send.
template <typename T>
struct Parsed {
  std::optional<T> value;
  Reply error{0, ""};
};

// "FROM:<addr> [params]". Accepts a space after the colon (common in the wild).
Parsed<MailParams> ParseMail(std::string_view args);
// "TO:<addr> [params]". Rejects source routes' syntax errors, empty and postmaster-less forms.
Parsed<RcptParams> ParseRcpt(std::string_view args);

// The HELO/EHLO argument (Postfix's reject_invalid_helo_hostname, a little more lenient):
// a host name (labels of letters, digits, '-' inside, '_' anywhere as Windows clients send,
// UTF-8 U-labels as RFC 6531 allows; labels <= 63 octets, <= 255 in all, one trailing dot
// allowed), an address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]") or a bare IP address.
// Anything else (spaces, control characters, invalid UTF-8, other literals) is 501 5.5.4.
Parsed<std::string> ParseHelo(std::string_view args);

// True if the address has any octet >= 0x80 (needs SMTPUTF8).
bool IsNonAscii(std::string_view s);

}  // namespace sw::gateway
