// Owns message-text helpers for assertions: header fields, the gateway's Received header, bodies.
// Fails by empty/nullopt results; pure functions on strings, no I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace sw::it {

struct SplitReceived {
  std::string received;  // the first header field, with its folded continuation lines
  std::string rest;      // everything after it, byte for byte
};
// Splits off the first header field if it is a `Received:` field; nullopt otherwise.
std::optional<SplitReceived> SplitFirstReceived(const std::string& data);

// Number of header fields named `name` (case-insensitive) in the header section.
size_t CountHeaderFields(const std::string& data, const std::string& name);

// Now as an RFC 5322 date (`Mon, 30 Nov 2026 05:22:27 +0000`): every test message carries a
// current Date so that rspamd's DATE_IN_PAST never decides a verdict.
std::string CurrentDate();

// `text` with the first `Date:` field of its header section set to CurrentDate() (added when
// there is none); the body is untouched. CRLF or LF line ends are kept as found.
std::string WithCurrentDate(const std::string& text);

// A small RFC 5322 message with CRLF lines: From, To, Subject, Message-ID, Date, body.
// `marker` goes into the Subject and Message-ID so the delivered copy can be found.
std::string SimpleMessage(const std::string& marker, const std::string& body = "Hello.\r\n");

// `n` bytes of varied printable lines (CRLF, at most 78 octets), some starting with '.'.
std::string FillerBody(size_t n, unsigned seed);

}  // namespace sw::it
