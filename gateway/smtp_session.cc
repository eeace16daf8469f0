// Owns one inbound SMTP connection: the ESMTP state machine of SPEC section 4, as a coroutine.
// Fails by reply: every bad input gets an RFC 5321 reply; I/O errors end the session only.
#include "gateway/smtp_session.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <ctime>
#include <set>

#include "common/log.h"
#include "common/metrics.h"
#include "common/received_header.h"
#include "common/server_tls.h"
#include "common/usage_counters.h"
#include "filters/message_edit.h"
#include "filters/pipeline.h"
#include "filters/policy.h"
#include "gateway/data_budget.h"
#include "gateway/disk_space.h"
#include "gateway/recipient_callout.h"
#include "queue/dsn.h"

namespace sw::gateway {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
constexpr size_t kMaxCommandLine = 512;  // RFC 5321 4.5.3.1.4, including CRLF
constexpr size_t kReadChunk = 64 * 1024;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

SmtpSession::SmtpSession(tcp::socket sock, GatewayContext& ctx, uint64_t session_id)
    : sock_(std::move(sock)),
      tls_ctx_(ctx.tls),
      ctx_(ctx),
      cfg_(ctx.config),
      sid_(session_id),
      watchdog_(sock_.get_executor()) {
  boost::system::error_code ec;
  auto ep = sock_.remote_endpoint(ec);
  if (!ec) {
    peer_ip_ = ep.address().to_string();
    peer_port_ = ep.port();
  }
  sock_.set_option(tcp::no_delay(true), ec);
  sock_.non_blocking(true, ec);  // ReadMore's read_some after wait_read never blocks the thread
  deadline_ = Clock::now() + cfg_->server.command_timeout;
}

void SmtpSession::Shutdown() {
  shutdown_ = true;
  if (reading_command_) {
    boost::system::error_code ec;
    sock_.cancel(ec);
  }
}

asio::awaitable<void> SmtpSession::Run() {
  auto self = shared_from_this();
  log::Info("connect").kv("session", sid_).kv("client", peer_ip_).kv("port", peer_port_);
  asio::co_spawn(
      sock_.get_executor(), [self]() { return self->Watchdog(); }, asio::detached);
  Reply(220, cfg_->server.hostname + " ESMTP");
  co_await Loop();
  closed_ = true;
  watchdog_.cancel();
  boost::system::error_code ec;
  sock_.shutdown(tcp::socket::shutdown_both, ec);
  sock_.close(ec);
  log::Info("disconnect")
      .kv("session", sid_)
      .kv("client", peer_ip_)
      .kv("messages", messages_)
      .kv("errors", errors_);
}

asio::awaitable<void> SmtpSession::Watchdog() {
  auto self = shared_from_this();
  while (!closed_) {
    watchdog_.expires_at(deadline_);
    boost::system::error_code ec;
    co_await watchdog_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (closed_) break;
    if (Clock::now() >= deadline_) {
      timed_out_ = true;
      sock_.cancel(ec);
      deadline_ = Clock::now() + std::chrono::hours(24 * 365);
    }
  }
}

void SmtpSession::Reply(int code, std::string_view text) {
  out_.append(std::to_string(code)).push_back(' ');
  out_.append(text).append("\r\n");
}

void SmtpSession::ReplyMulti(int code, const std::vector<std::string>& lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    out_.append(std::to_string(code)).push_back(i + 1 == lines.size() ? ' ' : '-');
    out_.append(lines[i]).append("\r\n");
  }
}

asio::awaitable<bool> SmtpSession::Flush() {
  if (out_.empty()) co_return true;
  auto prev = deadline_;
  deadline_ = Clock::now() + cfg_->server.command_timeout;
  boost::system::error_code ec;
  if (tls_) {
    std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, asio::buffer(out_), kTuple);
  } else {
    std::tie(ec, std::ignore) = co_await asio::async_write(sock_, asio::buffer(out_), kTuple);
  }
  deadline_ = prev;
  out_.clear();
  co_return !ec;
}

asio::awaitable<bool> SmtpSession::ReadMore(std::chrono::milliseconds timeout) {
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > kReadChunk) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  auto want = Clock::now() + timeout;
  bool rearm = want < watchdog_.expiry();
  deadline_ = want;
  if (rearm) watchdog_.expires_at(deadline_);  // wakes the watchdog to re-arm earlier
  size_t old = in_.size();
  boost::system::error_code ec;
  size_t n = 0;
  if (tls_) {
    in_.resize(old + kReadChunk);
    std::tie(ec, n) =
        co_await tls_->async_read_some(asio::buffer(in_.data() + old, kReadChunk), kTuple);
  } else {
    // Wait until readable, then grow the buffer by what the kernel holds: resize() zero-fills,
    // and 64 KiB per read for a command line of a few bytes was a visible share of the CPU.
    do {
      std::tie(ec) = co_await sock_.async_wait(asio::ip::tcp::socket::wait_read, kTuple);
      size_t avail = ec ? 0 : sock_.available(ec);
      size_t len = std::clamp<size_t>(avail, 1, kReadChunk);  // 0: EOF or an error to read
      in_.resize(old + len);
      if (!ec) n = sock_.read_some(asio::buffer(in_.data() + old, len), ec);
    } while (ec == asio::error::would_block || ec == asio::error::try_again);
  }
  in_.resize(old + n);
  co_return !ec && n > 0;
}

asio::awaitable<SmtpSession::ReadResult> SmtpSession::ReadLine(std::string* line) {
  bool discarding = false;
  for (;;) {
    size_t nl = in_.find('\n', in_pos_);
    if (nl != std::string::npos) {
      size_t len = nl - in_pos_ + 1;
      if (discarding || len > kMaxCommandLine) {
        in_pos_ = nl + 1;
        co_return ReadResult::kTooLong;
      }
      line->assign(in_, in_pos_, nl - in_pos_);
      if (!line->empty() && line->back() == '\r') line->pop_back();
      in_pos_ = nl + 1;
      co_return ReadResult::kLine;
    }
    if (in_.size() - in_pos_ > kMaxCommandLine) {  // bounded memory: drop the long line
      discarding = true;
      in_.clear();
      in_pos_ = 0;
    }
    if (shutdown_) co_return ReadResult::kShutdown;
    if (!co_await Flush()) co_return ReadResult::kClosed;
    reading_command_ = true;
    bool ok = co_await ReadMore(cfg_->server.command_timeout);
    reading_command_ = false;
    if (!ok) {
      if (timed_out_) co_return ReadResult::kTimeout;
      if (shutdown_) co_return ReadResult::kShutdown;
      co_return ReadResult::kClosed;
    }
  }
}

bool SmtpSession::CountError() {
  if (++errors_ < cfg_->server.max_errors) return false;
  Reply(421, "4.7.0 " + cfg_->server.hostname + " Error: too many errors");
  log::Info("reject").kv("session", sid_).kv("client", peer_ip_).kv("reason", "too many errors");
  metrics::Rejected("too_many_errors");
  return true;
}

void SmtpSession::ResetTransaction() {
  mail_.reset();
  rcpts_.clear();
}

asio::awaitable<void> SmtpSession::Loop() {
  std::string line;
  for (;;) {
    ReadResult rr = co_await ReadLine(&line);
    if (rr == ReadResult::kClosed) co_return;
    if (rr == ReadResult::kTimeout) {
      Reply(421, "4.4.2 " + cfg_->server.hostname + " Error: timeout exceeded");
      log::Info("timeout").kv("session", sid_).kv("client", peer_ip_);
      co_await Flush();
      co_return;
    }
    if (rr == ReadResult::kShutdown) {
      Reply(421, "4.3.2 " + cfg_->server.hostname + " Service shutting down, closing channel");
      co_await Flush();
      co_return;
    }
    if (rr == ReadResult::kTooLong) {
      Reply(500, "5.5.2 Error: line too long");
      if (CountError()) break;
      continue;
    }
    if (line.find('\0') != std::string::npos) {
      Reply(500, "5.5.2 Error: NUL character in command");
      if (CountError()) break;
      continue;
    }
    CommandLine cmd = SplitCommand(line);
    switch (cmd.verb) {
      case Verb::kEhlo:
        DoEhlo(cmd.args, true);
        break;
      case Verb::kHelo:
        DoEhlo(cmd.args, false);
        break;
      case Verb::kMail:
        DoMail(cmd.args);
        break;
      case Verb::kRcpt:
        DoRcpt(cmd.args);
        if (pending_rcpt_) co_await VerifyRcpt();
        break;
      case Verb::kData:
        co_await DoData();
        break;
      case Verb::kRset:
        ResetTransaction();
        Reply(250, "2.0.0 Ok");
        break;
      case Verb::kNoop:
        Reply(250, "2.0.0 Ok");
        break;
      case Verb::kVrfy:
        Reply(252, "2.0.0 Cannot VRFY user, but will accept message");
        break;
      case Verb::kHelp:
        Reply(214, "2.0.0 See RFC 5321");
        break;
      case Verb::kQuit:
        Reply(221, "2.0.0 Bye");
        co_await Flush();
        co_return;
      case Verb::kStartTls:
        if (!co_await DoStartTls()) co_return;
        break;
      case Verb::kNotImplemented:
        Reply(502, "5.5.1 Error: command not implemented");
        if (CountError()) goto done;
        break;
      case Verb::kUnknown:
        Reply(500, "5.5.1 Error: command not recognized");
        if (CountError()) goto done;
        break;
    }
    if (closed_ || errors_ >= cfg_->server.max_errors) break;
  }
done:
  co_await Flush();
}

void SmtpSession::DoEhlo(std::string_view args, bool extended) {
  if (args.empty()) {
    Reply(501, extended ? "5.5.4 Syntax: EHLO hostname" : "5.5.4 Syntax: HELO hostname");
    CountError();
    return;
  }
  // Only a domain or an address literal: the name goes into our Received header and to rspamd.
  auto name = ParseHelo(args);
  if (!name.value) {
    Reply(name.error.code, name.error.text);
    log::Info("reject")
        .kv("session", sid_)
        .kv("client", peer_ip_)
        .kv("helo", args)
        .kv("reason", "invalid helo name");
    metrics::Rejected("invalid_helo");
    CountError();
    return;
  }
  ResetTransaction();
  helo_ = std::move(*name.value);
  esmtp_ = extended;
  if (!extended) {
    Reply(250, cfg_->server.hostname);
    return;
  }
  std::vector<std::string> lines = {cfg_->server.hostname, "PIPELINING",
                                    "SIZE " + std::to_string(cfg_->server.max_message_size)};
  if (tls_ctx_ && !tls_) lines.push_back("STARTTLS");
  lines.push_back("ENHANCEDSTATUSCODES");
  lines.push_back("8BITMIME");
  lines.push_back("SMTPUTF8");
  ReplyMulti(250, lines);
}

void SmtpSession::DoMail(std::string_view args) {
  if (helo_.empty()) {
    Reply(503, "5.5.1 Error: send HELO/EHLO first");
    CountError();
    return;
  }
  if (mail_) {
    Reply(503, "5.5.1 Error: nested MAIL command");
    CountError();
    return;
  }
  auto parsed = ParseMail(args);
  if (!parsed.value) {
    Reply(parsed.error.code, parsed.error.text);
    CountError();
    return;
  }
  MailParams& m = *parsed.value;
  if ((m.smtputf8 || m.eightbit) && !esmtp_) {
    Reply(555, "5.5.4 Unsupported parameter");
    CountError();
    return;
  }
  if (IsNonAscii(m.address) && !m.smtputf8) {
    Reply(553, "5.6.7 Error: non-ASCII address requires SMTPUTF8");
    log::Info("reject")
        .kv("session", sid_)
        .kv("client", peer_ip_)
        .kv("from", m.address)
        .kv("reason", "non-ascii sender without SMTPUTF8");
    metrics::Rejected("non_ascii");
    return;
  }
  if (m.size && *m.size > cfg_->server.max_message_size) {
    Reply(552, "5.3.4 Error: message size exceeds fixed limit");
    log::Info("reject")
        .kv("session", sid_)
        .kv("client", peer_ip_)
        .kv("from", m.address)
        .kv("reason", "declared size over limit")
        .kv("size", *m.size);
    metrics::Rejected("message_size");
    return;
  }
  if (ctx_.disk && ctx_.disk->Low()) {
    Reply(452, "4.3.1 Error: insufficient system storage");
    log::Warn("reject")
        .kv("session", sid_)
        .kv("client", peer_ip_)
        .kv("reason", "disk space low")
        .kv("free_bytes", ctx_.disk->free_bytes());
    metrics::Rejected("disk_space");
    return;
  }
  mail_ = std::move(m);
  Reply(250, "2.1.0 Ok");
}

void SmtpSession::DoRcpt(std::string_view args) {
  if (!mail_) {
    Reply(503, "5.5.1 Error: need MAIL command");
    CountError();
    return;
  }
  auto parsed = ParseRcpt(args);
  if (!parsed.value) {
    Reply(parsed.error.code, parsed.error.text);
    CountError();
    return;
  }
  RcptParams& r = *parsed.value;
  auto reject = [&](int code, std::string text, const char* reason) {
    Reply(code, text);
    log::Info("reject")
        .kv("session", sid_)
        .kv("client", peer_ip_)
        .kv("from", mail_->address)
        .kv("to", r.address)
        .kv("code", code)
        .kv("reason", reason);
  };
  if (IsNonAscii(r.address) && !mail_->smtputf8) {
    reject(553, "5.6.7 Error: non-ASCII address requires SMTPUTF8", "non-ascii recipient");
    metrics::Rejected("non_ascii");
    return;
  }
  if (rcpts_.size() >= cfg_->server.max_recipients) {
    reject(452, "4.5.3 Error: too many recipients", "too many recipients");
    metrics::Rejected("too_many_recipients");
    return;
  }
  auto dit = r.domain_literal ? cfg_->domains.end() : cfg_->domains.find(r.domain);
  // A deleted domain is not served (its queued mail still drains); a pending one waits for
  // its ownership check (SPEC section 10).
  if (dit != cfg_->domains.end() && dit->second.state == config::DomainState::kDeleted)
    dit = cfg_->domains.end();
  if (dit != cfg_->domains.end() && dit->second.state == config::DomainState::kPending) {
    reject(450, "4.7.1 <" + r.address + ">: Recipient domain is not verified yet",
           "domain pending verification");
    metrics::Rejected("domain_pending");
    return;
  }
  if (dit == cfg_->domains.end()) {
    reject(554, "5.7.1 <" + r.address + ">: Relay access denied", "relay access denied");
    metrics::Rejected("relay_denied");
    CountError();
    return;
  }
  if (!ListedRecipient(dit->second, r)) {
    reject(550, "5.1.1 <" + r.address + ">: Recipient address rejected: User unknown",
           "unknown recipient");
    metrics::Rejected("unknown_recipient");
    CountError();
    return;
  }
  // One filtering policy per transaction (SPEC section 6): the sender retries the others.
  if (!rcpts_.empty()) {
    auto first = cfg_->domains.find(rcpts_[0].domain);
    if (first != cfg_->domains.end() && !filters::SamePolicy(first->second, dit->second)) {
      reject(452, "4.5.3 Error: recipient has a different filtering policy, send it separately",
             "different filtering policy");
      return;
    }
  }
  queue::RecipientState rs;
  rs.address = std::move(r.address);
  rs.domain = std::move(r.domain);
  if (ctx_.callout &&
      dit->second.recipient_verification == config::RecipientVerification::kCallout) {
    pending_rcpt_ = std::move(rs);  // Loop co_awaits VerifyRcpt
    return;
  }
  rcpts_.push_back(std::move(rs));
  Reply(250, "2.1.5 Ok");
}

bool SmtpSession::ListedRecipient(const config::DomainConfig& domain, const RcptParams& r) const {
  if (domain.recipients.empty()) return true;
  std::string local = Lower(r.local);
  std::string full = local + "@" + r.domain;
  for (const auto& a : domain.recipients)
    if (a == full || a == local) return true;
  return false;
}

asio::awaitable<void> SmtpSession::VerifyRcpt() {
  queue::RecipientState rs = std::move(*pending_rcpt_);
  pending_rcpt_.reset();
  auto dit = cfg_->domains.find(rs.domain);
  if (dit != cfg_->domains.end()) {
    RecipientCallout::Verdict v =
        co_await ctx_.callout->Check(cfg_->callout, dit->second, rs.address, sid_);
    if (v == RecipientCallout::Verdict::kInvalid) {
      Reply(550, "5.1.1 <" + rs.address + ">: Recipient address rejected: User unknown");
      log::Info("reject")
          .kv("session", sid_)
          .kv("client", peer_ip_)
          .kv("from", mail_ ? mail_->address : std::string())
          .kv("to", rs.address)
          .kv("code", 550)
          .kv("reason", "unknown recipient (callout)");
      metrics::Rejected("unknown_recipient");
      CountError();
      co_return;
    }
  }
  rcpts_.push_back(std::move(rs));
  Reply(250, "2.1.5 Ok");
}

int SmtpSession::CountReceived(const std::string& body) const {
  int n = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) eol = body.size();
    if (eol == pos) break;  // end of header section
    if (eol - pos >= 9 && strncasecmp(body.data() + pos, "Received:", 9) == 0) ++n;
    pos = eol + 2;
  }
  return n;
}

std::string SmtpSession::ReceivedHeader(const std::string& id) const {
  std::string proto = mail_->smtputf8 ? "UTF8SMTP" : (esmtp_ ? "ESMTP" : "SMTP");
  if (tls_) proto += "S";
  std::string date = queue::Rfc5322Date(queue::NowMs());
  ReceivedFields f;
  f.helo = helo_;
  f.client_ip = peer_ip_;
  f.hostname = cfg_->server.hostname;
  f.product = cfg_->server.received_product;
  f.protocol = proto;
  f.id = id;
  if (rcpts_.size() == 1) f.recipient = rcpts_[0].address;
  f.date = date;
  f.utf8 = mail_->smtputf8;
  return sw::ReceivedHeader(f);
}

asio::awaitable<void> SmtpSession::DoData() {
  if (!mail_) {
    Reply(503, "5.5.1 Error: need MAIL command");
    CountError();
    co_return;
  }
  if (rcpts_.empty()) {
    Reply(554, "5.5.1 Error: no valid recipients");
    CountError();
    co_return;
  }
  std::string id = ctx_.queue->NewId();
  DataReader reader(cfg_->server.max_message_size);
  reader.body() = ReceivedHeader(id);
  // Memory held for this message, against server.max_inflight_data across all sessions.
  DataBudget::Lease lease(ctx_.data_budget);
  if (!lease.Grow(reader.body().size(), cfg_->server.max_inflight_data)) reader.Discard();
  Reply(354, "End data with <CR><LF>.<CR><LF>");
  if (!co_await Flush()) {
    closed_ = true;
    co_return;
  }
  in_transaction_io_ = true;
  if (!co_await ReceiveData(id, reader, lease)) {
    in_transaction_io_ = false;
    closed_ = true;
    co_return;
  }
  std::shared_ptr<std::string> body;
  if (AcceptableData(id, reader)) body = std::make_shared<std::string>(std::move(reader.body()));
  if (body && TooManyHops(id, *body)) body.reset();
  // SpamWeeder Premium: scan before the 250; reject, tempfail or add headers (SPEC section 6).
  if (auto pd = cfg_->domains.find(rcpts_[0].domain);
      body && pd != cfg_->domains.end() && pd->second.filtering) {
    body = co_await ScanData(id, pd->second, std::move(body));
  }
  if (body) co_await QueueData(id, std::move(body), reader);
  EndTransaction();
}

void SmtpSession::EndTransaction() {
  in_transaction_io_ = false;
  ResetTransaction();
}

// Reads DATA up to its end, growing the memory lease (discarding past max_inflight_data);
// false when the connection was lost or timed out (421 sent then).
asio::awaitable<bool> SmtpSession::ReceiveData(const std::string& id, DataReader& reader,
                                               DataBudget::Lease& lease) {
  const uint64_t inflight_limit = cfg_->server.max_inflight_data;
  for (;;) {
    size_t used = reader.Feed(std::string_view(in_).substr(in_pos_));
    in_pos_ += used;
    if (!reader.discarded() && reader.body().size() > lease.held() &&
        !lease.Grow(reader.body().size() - lease.held(), inflight_limit)) {
      reader.Discard();
      lease.Release();
    }
    if (reader.done()) co_return true;
    if (co_await ReadMore(cfg_->server.data_timeout)) continue;
    if (timed_out_) {
      Reply(421, "4.4.2 " + cfg_->server.hostname + " Error: timeout exceeded");
      co_await Flush();
    }
    log::Info("reject")
        .kv("session", sid_)
        .kv("id", id)
        .kv("client", peer_ip_)
        .kv("reason", timed_out_ ? "timeout in DATA" : "connection lost in DATA");
    if (timed_out_) metrics::Rejected("timeout");
    co_return false;
  }
}

// The whole message arrived: refuses it (and says why) when it was discarded for memory or
// size.
bool SmtpSession::AcceptableData(const std::string& id, const DataReader& reader) {
  if (reader.discarded() && !reader.too_big()) {
    Reply(452, "4.3.1 Error: insufficient system resources, try again later");
    log::Warn("reject")
        .kv("session", sid_)
        .kv("id", id)
        .kv("client", peer_ip_)
        .kv("reason", "in-flight data limit")
        .kv("size", reader.size())
        .kv("inflight", ctx_.data_budget ? ctx_.data_budget->in_use() : 0);
    metrics::Rejected("inflight_data");
    return false;
  }
  if (reader.too_big()) {
    Reply(552, "5.3.4 Error: message size exceeds fixed limit");
    log::Info("reject")
        .kv("session", sid_)
        .kv("id", id)
        .kv("client", peer_ip_)
        .kv("reason", "message size over limit")
        .kv("size", reader.size());
    metrics::Rejected("message_size");
    return false;
  }
  return true;
}

// Our own Received header is the first one; over 100 others means a loop (refused).
bool SmtpSession::TooManyHops(const std::string& id, const std::string& body) {
  if (CountReceived(body) - 1 <= 100) return false;
  Reply(554, "5.4.6 Error: too many hops (mail loop?)");
  log::Info("reject")
      .kv("session", sid_)
      .kv("id", id)
      .kv("client", peer_ip_)
      .kv("reason", "too many Received headers");
  metrics::Rejected("mail_loop");
  return true;
}

// Scans through the Premium pipeline: the message with the filters' header changes, or null
// when it was refused (reply sent).
asio::awaitable<std::shared_ptr<std::string>> SmtpSession::ScanData(
    const std::string& id, const config::DomainConfig& domain, std::shared_ptr<std::string> body) {
  filters::Verdict v;
  if (ctx_.filters) {
    filters::ScanRequest req;
    req.id = id;
    req.sender = mail_->address;
    for (const auto& rc : rcpts_) req.recipients.push_back(rc.address);
    req.client_ip = peer_ip_;
    req.helo = helo_;
    req.hostname = cfg_->server.hostname;
    req.body = body;
    req.config = cfg_;
    // The idle watchdog must not fire while the scanners have time left.
    const auto& fc = cfg_->filters;
    auto budget = std::max(fc.rspamd.timeout, fc.clamav.timeout) + std::chrono::seconds(5);
    deadline_ = std::max(deadline_, Clock::now() + budget);
    v = co_await ctx_.filters->Scan(req, domain);
    filters::LogScanned(id, domain.name, v);
  } else {  // filtering turned on by a reload: no scanners loaded until a restart
    v.disposition = filters::Disposition::kTempfail;
    v.code = 451;
    v.enhanced = "4.7.1";
    v.text = "Message could not be scanned, try again later";
    v.reason = "no scanners loaded";
  }
  if (v.disposition == filters::Disposition::kReject ||
      v.disposition == filters::Disposition::kTempfail) {
    Reply(v.code, v.enhanced + " " + v.text);
    log::Info("reject")
        .kv("session", sid_)
        .kv("id", id)
        .kv("client", peer_ip_)
        .kv("from", mail_->address)
        .kv("code", v.code)
        .kv("reason", v.reason);
    const char* why = v.reason == "virus" ? "virus" : "filter_failure";
    if (v.reason == "spam" || v.reason == "soft reject") why = "spam";
    metrics::Rejected(why);
    if (v.disposition == filters::Disposition::kReject)
      CountUsage(std::string_view(why) == "virus" ? usage::Field::kRejectedVirus
                                                  : usage::Field::kRejectedSpam,
                 0);
    co_return nullptr;
  }
  spam_tagged_ = v.disposition == filters::Disposition::kTag;
  co_return std::make_shared<std::string>(filters::ApplyHeaderChanges(*body, v));
}

// Makes the message durable and answers 250 (451 when the queue cannot write).
asio::awaitable<void> SmtpSession::QueueData(const std::string& id,
                                             std::shared_ptr<std::string> body,
                                             const DataReader& reader) {
  queue::Envelope env;
  env.id = id;
  env.arrival_ms = queue::NowMs();
  env.sender = mail_->address;
  env.recipients = rcpts_;
  env.client_ip = peer_ip_;
  env.helo = helo_;
  env.smtputf8 = mail_->smtputf8;
  env.eightbit = mail_->eightbit || reader.eightbit();
  env.spam_tagged = spam_tagged_;
  spam_tagged_ = false;
  std::string qid;
  Status st = co_await ctx_.queue->Accept(std::move(env), body, &qid);
  if (!st.ok()) {
    Reply(451, "4.3.0 Error: queue file write error");
    log::Error("reject")
        .kv("session", sid_)
        .kv("id", id)
        .kv("client", peer_ip_)
        .kv("reason", "queue write failed")
        .kv("detail", st.message());
    metrics::Rejected("queue_error");
    co_return;
  }
  ++messages_;
  CountUsage(usage::Field::kAccepted, body->size());
  Reply(250, "2.0.0 Ok: queued as " + qid);
  log::Info("queued")
      .kv("id", qid)
      .kv("session", sid_)
      .kv("client", peer_ip_)
      .kv("helo", helo_)
      .kv("from", mail_->address)
      .kv("nrcpt", rcpts_.size())
      .kv("size", body->size())
      .kv("bare_lf", reader.bare_lf() + reader.bare_cr())
      .kv("tls", tls_.has_value());
}

// Once per recipient domain of the transaction (usage per domain per hour, SPEC section 11).
void SmtpSession::CountUsage(usage::Field field, uint64_t bytes) {
  if (!ctx_.usage) return;
  std::set<std::string> seen;
  for (const auto& r : rcpts_) {
    if (!seen.insert(r.domain).second) continue;
    ctx_.usage->Add(r.domain, field);
    if (bytes) ctx_.usage->Add(r.domain, usage::Field::kBytes, bytes);
  }
}

asio::awaitable<bool> SmtpSession::DoStartTls() {
  if (!tls_ctx_) {
    Reply(502, "5.5.1 Error: command not implemented");
    co_return !CountError();
  }
  if (tls_) {
    Reply(503, "5.5.1 Error: TLS already active");
    co_return !CountError();
  }
  Reply(220, "2.0.0 Ready to start TLS");
  if (!co_await Flush()) co_return false;
  // Anything pipelined after STARTTLS in clear text is discarded (RFC 3207, CVE-2011-0411).
  in_.clear();
  in_pos_ = 0;
  tls_.emplace(sock_, tls_ctx_->context());
  deadline_ = Clock::now() + cfg_->server.command_timeout;
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, kTuple);
  if (ec) {
    log::Info("tls_failed").kv("session", sid_).kv("client", peer_ip_).kv("reason", ec.message());
    co_return false;
  }
  helo_.clear();
  esmtp_ = false;
  ResetTransaction();
  log::Info("tls")
      .kv("session", sid_)
      .kv("client", peer_ip_)
      .kv("version", SSL_get_version(tls_->native_handle()));
  co_return true;
}

}  // namespace sw::gateway
