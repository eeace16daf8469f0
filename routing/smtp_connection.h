// Owns one outbound SMTP client connection: connect, greeting, EHLO/HELO, STARTTLS, transactions.
// Fails by result: every I/O error, timeout or bad reply is returned; the connection then is
// unusable.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "routing/outbound_message.h"
#include "routing/smtp_wire.h"

namespace sw::routing {

// Settings shared by every connection of one SmtpDestination (held by shared_ptr).
struct SmtpClientOptions {
  std::string helo_name;  // our hostname, sent in EHLO/HELO
  config::TlsPolicy tls = config::TlsPolicy::kOpportunistic;
  config::Duration connect_timeout = std::chrono::seconds(30);
  config::Duration command_timeout = std::chrono::minutes(5);
  // Used for STARTTLS; null: never STARTTLS (and kRequired/kVerify then always fail).
  // For kVerify it must load trust anchors (SmtpDestination uses the default verify paths).
  std::shared_ptr<boost::asio::ssl::context> ssl;
};

// Result of Open(): the session is ready for MAIL, or why not.
struct OpenResult {
  bool ok = false;
  SmtpReply reply;    // the failing reply (greeting, EHLO/HELO, STARTTLS) when there was one
  std::string error;  // "connect: Connection refused", "greeting: 421 4.3.2 busy", ...
};

// Result of one transaction (Send()).
struct TransactionResult {
  enum class Stage {
    kNotStarted,     // lost before the MAIL reply (no reply/421): try elsewhere
    kMailTransient,  // MAIL got 4xx: try the next destination
    kMailPermanent,  // MAIL got 5xx (or envelope unsendable): `mail_reply` for every recipient
    kDone,           // MAIL accepted: `recipients` holds the final per-recipient replies
  };
  Stage stage = Stage::kNotStarted;
  SmtpReply mail_reply;
  std::vector<SmtpReply> recipients;  // kDone only; code 0 where the connection was lost
  std::string error;                  // kNotStarted/kMailTransient: for logs
};

class SmtpConnection : public std::enable_shared_from_this<SmtpConnection> {
 public:
  using tcp = boost::asio::ip::tcp;
  using clock = std::chrono::steady_clock;

  // Connections live in shared_ptrs (the timeout watchdog holds a weak one).
  static std::shared_ptr<SmtpConnection> Create(boost::asio::any_io_executor ex,
                                                std::shared_ptr<const SmtpClientOptions> opts);
  ~SmtpConnection();
  SmtpConnection(const SmtpConnection&) = delete;
  SmtpConnection& operator=(const SmtpConnection&) = delete;

  // Connects to `ep`, reads the greeting, says EHLO (HELO after a 5xx), applies the TLS
  // policy (STARTTLS + EHLO again). `tls_name`: the destination's host name for kVerify
  // (DNS name or IP literal) and SNI.
  boost::asio::awaitable<OpenResult> Open(const tcp::endpoint& ep, std::string tls_name);

  // Runs one transaction: MAIL, RCPT..., DATA (pipelined when offered), body, final reply.
  // Leaves the session reset and reusable when usable() stays true.
  boost::asio::awaitable<TransactionResult> Send(const OutboundMessage& msg);

  // Recipient callout on an open session: MAIL FROM:<> then RCPT TO:<address>, no DATA.
  // Returns the RCPT reply; when MAIL is not accepted, code 0 and `mail` holds its reply.
  boost::asio::awaitable<SmtpReply> Verify(const std::string& address, SmtpReply* mail);

  // Sends QUIT, waits briefly for the reply, closes. Safe on a broken connection.
  boost::asio::awaitable<void> Quit();
  // Closes the socket now (no QUIT).
  void Abort();

  bool usable() const { return usable_; }
  bool tls() const { return tls_ != nullptr; }
  const wire::Extensions& extensions() const { return ext_; }
  const tcp::endpoint& endpoint() const { return endpoint_; }
  // "ip:port" ("[v6]:port") of the peer, for logs and errors.
  const std::string& peer() const { return peer_; }
  clock::time_point idle_since() const { return idle_since_; }
  void set_idle_since(clock::time_point t) { idle_since_ = t; }
  uint32_t transactions() const { return transactions_; }

 private:
  using tls_stream = boost::asio::ssl::stream<tcp::socket>;
  struct IoStatus {
    bool ok = true;
    std::string error;  // when !ok
  };

  SmtpConnection(boost::asio::any_io_executor ex, std::shared_ptr<const SmtpClientOptions> opts);

  // Deadline watchdog: one timer per connection, re-armed lazily.
  void SetDeadline(config::Duration d);
  void ClearDeadline() { deadline_ = clock::time_point::max(); }
  void Arm(clock::time_point t);
  void OnTimer();
  tcp::socket& Lowest();

  boost::asio::awaitable<IoStatus> WriteAll(std::string_view data);
  // Reads one reply (with command_timeout). code 0 + text on I/O or protocol error, and the
  // connection is marked unusable. `ext`: also parse EHLO keywords.
  boost::asio::awaitable<SmtpReply> ReadReply(wire::Extensions* ext = nullptr);
  boost::asio::awaitable<SmtpReply> Command(std::string_view line, wire::Extensions* ext = nullptr);
  boost::asio::awaitable<OpenResult> Hello();
  boost::asio::awaitable<OpenResult> StartTls(const std::string& tls_name);
  boost::asio::awaitable<IoStatus> SendBody(std::string_view body);
  // The steps of Send(), in order.
  bool EnvelopeSendable(const OutboundMessage& msg, TransactionResult& r) const;
  boost::asio::awaitable<bool> MailPhase(const OutboundMessage& msg, TransactionResult& r);
  boost::asio::awaitable<std::optional<size_t>> RcptPhase(const OutboundMessage& msg,
                                                          TransactionResult& r);
  boost::asio::awaitable<bool> DataPhase(TransactionResult& r, size_t accepted);
  boost::asio::awaitable<void> BodyPhase(const OutboundMessage& msg, TransactionResult& r,
                                         size_t accepted);
  // Marks the connection lost mid-transaction: every still-pending recipient gets code 0.
  void Lost(TransactionResult& r, std::string_view during, std::string_view why);
  // After a failed transaction step: RSET so the session can be pooled; marks unusable on failure.
  boost::asio::awaitable<void> Reset();
  void AppendMailCommand(const OutboundMessage& msg);
  std::string IoError(const char* what, const boost::system::error_code& ec) const;

  std::shared_ptr<const SmtpClientOptions> opts_;
  config::Duration io_timeout_;      // per read/write; command_timeout, shorter for QUIT
  tcp::socket socket_;               // plain phase
  std::unique_ptr<tls_stream> tls_;  // after STARTTLS (owns the socket then)
  boost::asio::steady_timer timer_;
  clock::time_point deadline_ = clock::time_point::max();
  clock::time_point armed_ = clock::time_point::max();
  bool timed_out_ = false;
  bool closed_ = false;
  bool usable_ = false;
  wire::Extensions ext_;
  tcp::endpoint endpoint_;
  std::string peer_;
  clock::time_point idle_since_{};
  uint32_t transactions_ = 0;

  // Read buffer: [rstart_, rend_) holds unread bytes.
  std::unique_ptr<char[]> rbuf_;
  size_t rstart_ = 0;
  size_t rend_ = 0;
  // Command/body staging buffer, reused across transactions.
  std::string wbuf_;
};

}  // namespace sw::routing
