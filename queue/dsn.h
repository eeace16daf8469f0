// Owns the text of delivery status notifications (RFC 3464 multipart/report) we send.
// Pure functions; nothing here fails (missing inputs give a shorter report).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sw::queue {

struct DsnRecipient {
  std::string address;
  std::string status;      // "5.1.1", "4.4.7"
  std::string diagnostic;  // remote reply "550 5.1.1 no such user", or our reason
  std::string remote_mta;  // "mail.example.com" or empty
};

enum class DsnKind { kFailed, kDelayed };

struct DsnInput {
  DsnKind kind = DsnKind::kFailed;
  std::string hostname;  // our name: Reporting-MTA and MAILER-DAEMON@hostname
  std::string queue_id;  // of the original message
  std::string sender;    // original envelope sender (the DSN's recipient)
  int64_t arrival_ms = 0;
  std::vector<DsnRecipient> recipients;
  const std::string* original = nullptr;  // stored message; only its headers are returned
};

// A complete message (headers + body, CRLF line endings) ready to be queued with the
// null sender and `sender` as its one recipient. Addresses, statuses and remote replies pass
// HeaderText (common/header_text.h): none brings a control byte or a line over 998 octets.
std::string BuildDsn(const DsnInput& in);

// The header section of a stored message (up to, not including, the empty line); without an
// empty line, the whole lines of its first 64 KiB.
std::string HeaderSection(const std::string& message);

// RFC 5322 date of a unix epoch millisecond time, in UTC.
std::string Rfc5322Date(int64_t epoch_ms);

}  // namespace sw::queue
