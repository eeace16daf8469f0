// Owns the value types exchanged between the queue and the delivery engine.
// Plain data; nothing here fails.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace sw::routing {

// One message to hand to a customer's server. The body is the stored message: CRLF line
// endings, NOT dot-stuffed (the client stuffs on the wire), our Received header included.
struct OutboundMessage {
  std::string id;      // queue ID, for logs
  std::string sender;  // empty: null sender <>
  std::vector<std::string> recipients;
  std::shared_ptr<const std::string> body;
  bool smtputf8 = false;  // the sender used SMTPUTF8 (send it if the server offers it)
  bool eightbit = false;  // body is 8BITMIME
};

struct SmtpReply {
  int code = 0;          // 0: no reply (connection lost, timeout)
  std::string enhanced;  // "2.0.0", may be empty
  std::string text;      // full reply text, lines joined with "; "
  bool positive() const { return code >= 200 && code < 300; }
  bool transient() const { return code == 0 || (code >= 400 && code < 500); }
  bool permanent() const { return code >= 500; }
};

// Outcome of one delivery attempt of one message.
struct DeliveryResult {
  // False when no destination accepted a transaction (connect/greeting/EHLO/MAIL failed
  // everywhere, or TLS policy forbade every one): the domain is unreachable.
  bool reached = false;
  std::string destination;  // the destination that took the transaction ("host:port")
  // One reply per recipient, in message order: the RCPT reply when RCPT failed, else the
  // reply to the end of DATA. Empty when !reached.
  std::vector<SmtpReply> recipients;
  std::string error;  // when !reached: why, for logs ("127.0.0.1:2526: connect refused; ...")
  bool tls = false;   // the transaction ran over TLS
};

// Outcome of a recipient callout (MAIL FROM:<> + RCPT, no DATA).
struct VerifyResult {
  bool answered = false;    // a destination answered the RCPT: `reply` is its answer
  SmtpReply reply;          // RCPT reply; else the last MAIL/connect failure (code 0: none)
  std::string destination;  // the destination that answered ("host:port")
  std::string error;        // when !answered: why, for logs
};

struct ProbeResult {
  bool up = false;
  std::string destination;  // first destination that answered
  std::string error;
};

}  // namespace sw::routing
