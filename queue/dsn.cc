// Owns the text of delivery status notifications (RFC 3464 multipart/report) we send.
// Pure functions; nothing here fails (missing inputs give a shorter report).
#include "queue/dsn.h"

#include <chrono>
#include <ctime>

#include "common/header_text.h"

namespace sw::queue {

std::string Rfc5322Date(int64_t epoch_ms) {
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string HeaderSection(const std::string& message) {
  constexpr size_t kMax = 65536;
  size_t end = message.find("\r\n\r\n");
  if (end != std::string::npos) return message.substr(0, end + 2);
  if (message.size() <= kMax) return message;
  // Cut after a whole line: a CR left at the cut would be a bare CR in the DSN.
  size_t eol = message.rfind("\r\n", kMax - 2);
  return eol == std::string::npos ? std::string() : message.substr(0, eol + 2);
}

namespace {

// What a DSN says about one recipient, every client- or remote-derived part sanitised.
struct SafeRecipient {
  std::string address;     // UTF-8 kept (SMTPUTF8 addresses)
  std::string status;      // ASCII, like the rest of message/delivery-status
  std::string diagnostic;  // the remote reply: ASCII, bounded
  std::string remote_mta;
};

constexpr size_t kMaxAddress = 520;  // 64 * 4 local-part octets, '@', 255 domain octets

SafeRecipient Sanitise(const DsnRecipient& r) {
  return {HeaderText(r.address, TextCharset::kUtf8, kMaxAddress),
          HeaderText(r.status, TextCharset::kAscii, 16),
          HeaderText(r.diagnostic, TextCharset::kAscii, 400),
          HeaderText(r.remote_mta, TextCharset::kAscii, 255)};
}

}  // namespace

std::string BuildDsn(const DsnInput& in) {
  const bool failed = in.kind == DsnKind::kFailed;
  std::vector<SafeRecipient> rcpts;
  for (const auto& r : in.recipients) rcpts.push_back(Sanitise(r));
  const std::string boundary = in.queue_id + "/" + in.hostname;
  const std::string now = Rfc5322Date(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  std::string m;
  m.reserve(2048);
  m += "From: MAILER-DAEMON@" + in.hostname + " (Mail Delivery System)\r\n";
  m += "To: <" + HeaderText(in.sender, TextCharset::kUtf8, kMaxAddress) + ">\r\n";
  m += failed ? "Subject: Undelivered Mail Returned to Sender\r\n"
              : "Subject: Delayed Mail (still being retried)\r\n";
  m += "Date: " + now + "\r\n";
  m += "Message-ID: <" + in.queue_id + (failed ? ".failed" : ".delayed") + "@" + in.hostname +
       ">\r\n";
  m += "Auto-Submitted: auto-replied\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + boundary +
       "\"\r\n";
  m += "\r\nThis is a MIME-encapsulated message.\r\n\r\n";

  m += "--" + boundary + "\r\n";
  m += "Content-Description: Notification\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
  m += "This is the mail system at host " + in.hostname + ".\r\n\r\n";
  if (failed) {
    m += "I'm sorry to have to inform you that your message could not\r\n"
         "be delivered to one or more recipients. It's attached below.\r\n\r\n";
  } else {
    m += "Your message could not be delivered yet to one or more recipients.\r\n"
         "It will be retried; you do not have to send it again.\r\n\r\n";
  }
  for (const auto& r : rcpts) m += "<" + r.address + ">: " + r.diagnostic + "\r\n";
  m += "\r\n";

  m += "--" + boundary + "\r\n";
  m += "Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n";
  m += "Reporting-MTA: dns; " + in.hostname + "\r\n";
  m += "X-SpamWeeder-Queue-ID: " + in.queue_id + "\r\n";
  if (in.arrival_ms) m += "Arrival-Date: " + Rfc5322Date(in.arrival_ms) + "\r\n";
  for (const auto& r : rcpts) {
    m += "\r\nFinal-Recipient: rfc822; " + r.address + "\r\n";
    m += std::string("Action: ") + (failed ? "failed" : "delayed") + "\r\n";
    m += "Status: " + r.status + "\r\n";
    if (!r.remote_mta.empty()) m += "Remote-MTA: dns; " + r.remote_mta + "\r\n";
    m += "Diagnostic-Code: smtp; " + r.diagnostic + "\r\n";
  }
  m += "\r\n";

  m += "--" + boundary + "\r\n";
  m += "Content-Description: Undelivered Message Headers\r\n"
       "Content-Type: text/rfc822-headers\r\n\r\n";
  if (in.original) m += HeaderSection(*in.original);
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

}  // namespace sw::queue
