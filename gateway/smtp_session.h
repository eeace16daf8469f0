// Owns one inbound SMTP connection: the ESMTP state machine of SPEC section 4, as a coroutine.
// Fails by reply: every bad input gets an RFC 5321 reply; I/O errors end the session only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/usage_counters.h"
#include "gateway/data_budget.h"
#include "gateway/data_reader.h"
#include "gateway/gateway_context.h"
#include "gateway/smtp_command.h"
#include "queue/envelope.h"

namespace sw::gateway {

class SmtpSession : public std::enable_shared_from_this<SmtpSession> {
 public:
  SmtpSession(boost::asio::ip::tcp::socket sock, GatewayContext& ctx, uint64_t session_id);
  boost::asio::awaitable<void> Run();
  // Server is stopping: an idle session gets 421 4.3.2; a transaction in flight finishes.
  void Shutdown();

  const std::string& peer_ip() const { return peer_ip_; }

 private:
  enum class ReadResult { kLine, kTooLong, kClosed, kTimeout, kShutdown };

  boost::asio::awaitable<void> Loop();
  boost::asio::awaitable<ReadResult> ReadLine(std::string* line);
  boost::asio::awaitable<bool> ReadMore(std::chrono::milliseconds timeout);
  boost::asio::awaitable<bool> Flush();
  boost::asio::awaitable<void> Watchdog();
  void Reply(int code, std::string_view text);
  void ReplyMulti(int code, const std::vector<std::string>& lines);
  bool CountError();  // true when max_errors reached (421 queued)
  void CountUsage(usage::Field field, uint64_t bytes);
  void ResetTransaction();

  void DoEhlo(std::string_view args, bool extended);
  void DoMail(std::string_view args);
  void DoRcpt(std::string_view args);
  bool ListedRecipient(const config::DomainConfig& domain, const RcptParams& r) const;
  // After DoRcpt for a domain with recipient_verification: callout: the verdict, and the reply.
  boost::asio::awaitable<void> VerifyRcpt();
  boost::asio::awaitable<void> DoData();
  // DoData's steps (each replies itself when it refuses the message).
  boost::asio::awaitable<bool> ReceiveData(const std::string& id, DataReader& reader,
                                           DataBudget::Lease& lease);
  bool AcceptableData(const std::string& id, const DataReader& reader);
  bool TooManyHops(const std::string& id, const std::string& body);
  boost::asio::awaitable<std::shared_ptr<std::string>> ScanData(const std::string& id,
                                                                const config::DomainConfig& domain,
                                                                std::shared_ptr<std::string> body);
  boost::asio::awaitable<void> QueueData(const std::string& id, std::shared_ptr<std::string> body,
                                         const DataReader& reader);
  void EndTransaction();
  boost::asio::awaitable<bool> DoStartTls();
  std::string ReceivedHeader(const std::string& id) const;
  int CountReceived(const std::string& body) const;

  boost::asio::ip::tcp::socket sock_;
  std::shared_ptr<ServerTls> tls_ctx_;  // at session start; outlives tls_ (declared first)
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  GatewayContext& ctx_;
  std::shared_ptr<const config::Config> cfg_;
  uint64_t sid_;
  std::string peer_ip_;
  uint16_t peer_port_ = 0;

  std::string in_;
  size_t in_pos_ = 0;
  std::string out_;
  boost::asio::steady_timer watchdog_;
  std::chrono::steady_clock::time_point deadline_;
  bool timed_out_ = false;
  bool closed_ = false;
  bool in_transaction_io_ = false;  // reading DATA or storing: shutdown waits
  bool reading_command_ = false;
  bool shutdown_ = false;

  std::string helo_;
  bool esmtp_ = false;
  uint32_t errors_ = 0;
  std::optional<MailParams> mail_;
  std::vector<queue::RecipientState> rcpts_;
  std::optional<queue::RecipientState> pending_rcpt_;  // waiting for VerifyRcpt
  bool spam_tagged_ = false;                           // this message's verdict was kTag
  uint32_t messages_ = 0;
};

}  // namespace sw::gateway
