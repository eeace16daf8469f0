// Owns the text of delivery status notifications (RFC 3464 multipart/report) we send.
// Pure functions; nothing here fails (missing inputs give a shorter report).
#include "queue/dsn.h"

#include <chrono>
#include <ctime>

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
  size_t end = message.find("\r\n\r\n");
  if (end == std::string::npos) return message.size() > 65536 ? message.substr(0, 65536) : message;
  return message.substr(0, end + 2);
}

std::string BuildDsn(const DsnInput& in) {
  const bool failed = in.kind == DsnKind::kFailed;
  const std::string boundary = in.queue_id + "/" + in.hostname;
  const std::string now = Rfc5322Date(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  std::string m;
  m.reserve(2048);
  m += "From: MAILER-DAEMON@" + in.hostname + " (Mail Delivery System)\r\n";
  m += "To: <" + in.sender + ">\r\n";
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
  for (const auto& r : in.recipients) m += "<" + r.address + ">: " + r.diagnostic + "\r\n";
  m += "\r\n";

  m += "--" + boundary + "\r\n";
  m += "Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n";
  m += "Reporting-MTA: dns; " + in.hostname + "\r\n";
  m += "X-SpamWeeder-Queue-ID: " + in.queue_id + "\r\n";
  if (in.arrival_ms) m += "Arrival-Date: " + Rfc5322Date(in.arrival_ms) + "\r\n";
  for (const auto& r : in.recipients) {
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
