// Owns one outbound SMTP client connection: connect, greeting, EHLO/HELO, STARTTLS, transactions.
// Fails by result: every I/O error, timeout or bad reply is returned; the connection then is
// unusable.
#include "routing/smtp_connection.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cstring>

namespace sw::routing {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;

namespace {

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadBufSize = 16 * 1024;  // > wire::kMaxReplyLine + slack
constexpr size_t kBodyChunk = 256 * 1024;   // wire bytes per body write
constexpr size_t kKeepWbuf = 64 * 1024;     // larger staging buffers are freed after use
constexpr config::Duration kQuitTimeout = std::chrono::seconds(5);

std::string FormatEndpoint(const asio::ip::tcp::endpoint& ep) {
  std::string s;
  if (ep.address().is_v6()) {
    s.append("[").append(ep.address().to_string()).append("]");
  } else {
    s = ep.address().to_string();
  }
  s.append(":").append(std::to_string(ep.port()));
  return s;
}

bool IsAscii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

void AppendNumber(std::string& out, uint64_t v) {
  char tmp[24];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
  (void)ec;
  out.append(tmp, end);
}

SmtpReply MakeReply(int code, const char* enhanced, std::string text) {
  SmtpReply r;
  r.code = code;
  r.enhanced = enhanced;
  r.text = std::move(text);
  return r;
}

}  // namespace

std::shared_ptr<SmtpConnection> SmtpConnection::Create(
    asio::any_io_executor ex, std::shared_ptr<const SmtpClientOptions> opts) {
  return std::shared_ptr<SmtpConnection>(new SmtpConnection(std::move(ex), std::move(opts)));
}

SmtpConnection::SmtpConnection(asio::any_io_executor ex,
                               std::shared_ptr<const SmtpClientOptions> opts)
    : opts_(std::move(opts)),
      io_timeout_(opts_->command_timeout),
      socket_(ex),
      timer_(ex),
      rbuf_(new char[kReadBufSize]) {}

SmtpConnection::~SmtpConnection() = default;

// ---- deadline watchdog ---------------------------------------------------------------------
// One timer per connection. SetDeadline only stores the deadline unless it is earlier than the
// armed expiry, so a busy connection costs one clock read per I/O, not one timer operation.

void SmtpConnection::SetDeadline(config::Duration d) {
  deadline_ = clock::now() + d;
  if (deadline_ < armed_) Arm(deadline_);
}

void SmtpConnection::Arm(clock::time_point t) {
  armed_ = t;
  timer_.expires_at(t);
  timer_.async_wait([weak = weak_from_this()](const error_code& ec) {
    if (ec) return;  // re-armed or closed
    if (auto self = weak.lock()) self->OnTimer();
  });
}

void SmtpConnection::OnTimer() {
  armed_ = clock::time_point::max();
  if (closed_ || deadline_ == clock::time_point::max()) return;
  if (clock::now() >= deadline_) {
    timed_out_ = true;
    usable_ = false;
    error_code ignored;
    Lowest().close(ignored);  // pending operations complete with operation_aborted
    return;
  }
  Arm(deadline_);
}

SmtpConnection::tcp::socket& SmtpConnection::Lowest() {
  return tls_ ? tls_->next_layer() : socket_;
}

void SmtpConnection::Abort() {
  usable_ = false;
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  Lowest().shutdown(tcp::socket::shutdown_both, ignored);
  Lowest().close(ignored);
  timer_.cancel();
}

std::string SmtpConnection::IoError(const char* what, const error_code& ec) const {
  std::string s(what);
  if (timed_out_) return s.append(": timeout");
  if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
    return s.append(": connection closed by server");
  }
  return s.append(": ").append(ec.message());
}

// ---- I/O primitives ------------------------------------------------------------------------

asio::awaitable<SmtpConnection::IoStatus> SmtpConnection::WriteAll(std::string_view data) {
  IoStatus st;
  if (closed_) {
    st.ok = false;
    st.error = "write: connection closed";
    co_return st;
  }
  SetDeadline(io_timeout_);
  auto buf = asio::buffer(data.data(), data.size());
  auto [ec, n] = tls_ ? co_await asio::async_write(*tls_, buf, kToken)
                      : co_await asio::async_write(socket_, buf, kToken);
  ClearDeadline();
  (void)n;
  if (ec) {
    st.ok = false;
    st.error = IoError("write", ec);
    Abort();
  }
  co_return st;
}

asio::awaitable<SmtpReply> SmtpConnection::ReadReply(wire::Extensions* ext) {
  wire::ReplyBuilder builder(ext);
  for (;;) {
    char* begin = rbuf_.get() + rstart_;
    const size_t avail = rend_ - rstart_;
    if (auto* nl = static_cast<char*>(std::memchr(begin, '\n', avail))) {
      size_t len = static_cast<size_t>(nl - begin);
      rstart_ += len + 1;
      if (len > 0 && begin[len - 1] == '\r') --len;
      switch (builder.Add(std::string_view(begin, len))) {
        case wire::ReplyBuilder::Status::kMore:
          continue;
        case wire::ReplyBuilder::Status::kDone: {
          SmtpReply r = builder.Take();
          if (r.code == 421) usable_ = false;  // the server is closing the session
          co_return r;
        }
        case wire::ReplyBuilder::Status::kError:
          Abort();
          co_return MakeReply(0, "", std::string("protocol error: ") + builder.error());
      }
    }
    if (avail > wire::kMaxReplyLine + 1) {
      Abort();
      co_return MakeReply(0, "", "protocol error: reply line too long");
    }
    if (closed_) co_return MakeReply(0, "", "read: connection closed");
    if (rstart_ > 0) {
      std::memmove(rbuf_.get(), begin, avail);
      rstart_ = 0;
      rend_ = avail;
    }
    SetDeadline(io_timeout_);
    auto buf = asio::buffer(rbuf_.get() + rend_, kReadBufSize - rend_);
    auto [ec, n] = tls_ ? co_await tls_->async_read_some(buf, kToken)
                        : co_await socket_.async_read_some(buf, kToken);
    ClearDeadline();
    if (ec) {
      std::string err = IoError("read", ec);
      Abort();
      co_return MakeReply(0, "", std::move(err));
    }
    rend_ += n;
  }
}

asio::awaitable<SmtpReply> SmtpConnection::Command(std::string_view line, wire::Extensions* ext) {
  IoStatus w = co_await WriteAll(line);
  if (!w.ok) co_return MakeReply(0, "", std::move(w.error));
  co_return co_await ReadReply(ext);
}

// ---- session setup -------------------------------------------------------------------------

asio::awaitable<OpenResult> SmtpConnection::Open(const tcp::endpoint& ep, std::string tls_name) {
  OpenResult r;
  endpoint_ = ep;
  peer_ = FormatEndpoint(ep);
  SetDeadline(opts_->connect_timeout);
  auto [ec] = co_await socket_.async_connect(ep, kToken);
  ClearDeadline();
  if (ec) {
    r.error = IoError("connect", ec);
    Abort();
    co_return r;
  }
  error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  usable_ = true;

  SmtpReply greeting = co_await ReadReply();
  if (greeting.code != 220) {
    r.error = "greeting: " + wire::FormatReply(greeting);
    r.reply = std::move(greeting);
    Abort();
    co_return r;
  }
  r = co_await Hello();
  if (!r.ok) co_return r;

  const bool want_tls = opts_->tls != config::TlsPolicy::kOpportunistic;
  if (ext_.starttls && opts_->ssl) {
    r = co_await StartTls(tls_name);
    if (!r.ok) co_return r;
  } else if (want_tls) {
    r.ok = false;
    r.error = ext_.starttls ? "STARTTLS: no TLS client context" : "STARTTLS not offered";
    r.error.append(opts_->tls == config::TlsPolicy::kVerify ? " (tls: verify)"
                                                            : " (tls: required)");
    co_await Quit();
    co_return r;
  }
  co_return r;
}

asio::awaitable<OpenResult> SmtpConnection::Hello() {
  OpenResult r;
  wbuf_.assign("EHLO ").append(opts_->helo_name).append("\r\n");
  ext_ = wire::Extensions{};
  SmtpReply rep = co_await Command(wbuf_, &ext_);
  if (!rep.positive() && rep.permanent()) {
    ext_ = wire::Extensions{};
    wbuf_.assign("HELO ").append(opts_->helo_name).append("\r\n");
    SmtpReply helo = co_await Command(wbuf_);
    if (!helo.positive()) {
      r.error = "EHLO: " + wire::FormatReply(rep) + "; HELO: " + wire::FormatReply(helo);
      r.reply = std::move(helo);
      Abort();
      co_return r;
    }
    r.ok = true;
    co_return r;
  }
  if (!rep.positive()) {
    r.error = "EHLO: " + wire::FormatReply(rep);
    r.reply = std::move(rep);
    Abort();
    co_return r;
  }
  r.ok = true;
  co_return r;
}

asio::awaitable<OpenResult> SmtpConnection::StartTls(const std::string& tls_name) {
  OpenResult r;
  const bool opportunistic = opts_->tls == config::TlsPolicy::kOpportunistic;
  SmtpReply rep = co_await Command("STARTTLS\r\n");
  if (rep.code != 220) {
    if (opportunistic && usable_ && (rep.code / 100 == 4 || rep.code / 100 == 5)) {
      // The server declined before any handshake: the session is still clean plaintext.
      r.ok = true;
      co_return r;
    }
    r.error = "STARTTLS: " + wire::FormatReply(rep);
    r.reply = std::move(rep);
    Abort();
    co_return r;
  }
  if (rstart_ != rend_) {  // plaintext pipelined after the 220 could be an injection
    r.error = "STARTTLS: unexpected data after 220";
    Abort();
    co_return r;
  }
  tls_ = std::make_unique<tls_stream>(std::move(socket_), *opts_->ssl);
  SSL* ssl = tls_->native_handle();
  error_code addr_ec;
  auto addr = asio::ip::make_address(tls_name, addr_ec);
  const bool is_ip = !addr_ec;
  if (!tls_name.empty() && !is_ip) SSL_set_tlsext_host_name(ssl, tls_name.c_str());
  if (opts_->tls == config::TlsPolicy::kVerify) {
    tls_->set_verify_mode(ssl::verify_peer);
    int ok = 0;
    if (is_ip) {
      ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), addr.to_string().c_str());
    } else if (!tls_name.empty()) {
      ok = SSL_set1_host(ssl, tls_name.c_str());
    }
    if (ok != 1) {
      r.error = "STARTTLS: cannot set verification name \"" + tls_name + "\"";
      Abort();
      co_return r;
    }
  } else {
    tls_->set_verify_mode(ssl::verify_none);
  }
  SetDeadline(io_timeout_);
  auto [ec] = co_await tls_->async_handshake(ssl::stream_base::client, kToken);
  ClearDeadline();
  if (ec) {
    r.error = IoError("TLS handshake", ec);
    long vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK) r.error.append(" (").append(X509_verify_cert_error_string(vr)).append(")");
    Abort();
    co_return r;
  }
  co_return co_await Hello();
}

// ---- transactions --------------------------------------------------------------------------

void SmtpConnection::AppendMailCommand(const OutboundMessage& msg) {
  wbuf_.append("MAIL FROM:<").append(msg.sender).append(">");
  if (ext_.size) {
    wbuf_.append(" SIZE=");
    AppendNumber(wbuf_, msg.body ? msg.body->size() : 0);
  }
  if (msg.eightbit && ext_.eightbitmime) wbuf_.append(" BODY=8BITMIME");
  if (msg.smtputf8 && ext_.smtputf8) wbuf_.append(" SMTPUTF8");
  wbuf_.append("\r\n");
}

void SmtpConnection::Lost(TransactionResult& r, std::string_view during, std::string_view why) {
  Abort();
  std::string text;
  text.append("lost connection with ").append(peer_).append(" during ").append(during);
  if (!why.empty()) text.append(": ").append(why);
  for (auto& rcpt : r.recipients)
    if (rcpt.code == 0) rcpt.text = text;
}

asio::awaitable<void> SmtpConnection::Reset() {
  SmtpReply rep = co_await Command("RSET\r\n");
  if (!rep.positive()) Abort();
}

// Envelope checks that need no round trip; false (and `r` filled) when the MAIL is refused here.
bool SmtpConnection::EnvelopeSendable(const OutboundMessage& msg, TransactionResult& r) const {
  using Stage = TransactionResult::Stage;
  bool bad_syntax = wire::HasLineBreak(msg.sender);
  bool non_ascii = !IsAscii(msg.sender);
  for (const auto& rcpt : msg.recipients) {
    bad_syntax = bad_syntax || wire::HasLineBreak(rcpt);
    non_ascii = non_ascii || !IsAscii(rcpt);
  }
  if (bad_syntax) {
    r.stage = Stage::kMailPermanent;
    r.mail_reply = MakeReply(501, "5.1.3", "bad address syntax (line break in envelope)");
    return false;
  }
  if (non_ascii && !ext_.smtputf8) {
    r.stage = Stage::kMailPermanent;
    r.mail_reply = MakeReply(553, "5.6.7", "SMTPUTF8 required but not offered by " + peer_);
    return false;
  }
  return true;
}

// MAIL FROM (with PIPELINING also every RCPT TO and DATA in the same write) and its reply;
// false (and `r` filled) when the transaction ends there.
asio::awaitable<bool> SmtpConnection::MailPhase(const OutboundMessage& msg, TransactionResult& r) {
  using Stage = TransactionResult::Stage;
  const bool pipelining = ext_.pipelining;
  wbuf_.clear();
  AppendMailCommand(msg);
  if (pipelining) {
    for (const auto& rcpt : msg.recipients) wbuf_.append("RCPT TO:<").append(rcpt).append(">\r\n");
    wbuf_.append("DATA\r\n");
  }
  IoStatus w = co_await WriteAll(wbuf_);
  if (!w.ok) {
    r.error = "MAIL: " + w.error;
    co_return false;
  }
  SmtpReply mail = co_await ReadReply();
  if (mail.positive()) co_return true;
  r.error = "MAIL: " + wire::FormatReply(mail);
  if (mail.code == 0 || mail.code == 421 || mail.code < 400) {
    Abort();  // no reply, closing, or nonsense: nothing was accepted
    co_return false;
  }
  r.stage = mail.permanent() ? Stage::kMailPermanent : Stage::kMailTransient;
  r.mail_reply = std::move(mail);
  if (pipelining) {  // drain the RCPT and DATA replies (503s) to stay in sync
    for (size_t i = 0; i <= msg.recipients.size() && usable_; ++i) {
      SmtpReply ignored = co_await ReadReply();
      if (ignored.code == 354) Abort();  // the server wants data nobody asked for
    }
  }
  co_return false;
}

// One reply per RCPT (sending each first without PIPELINING): how many were accepted, or
// nullopt when the connection was lost. Refused recipients keep their reply in `r`.
asio::awaitable<std::optional<size_t>> SmtpConnection::RcptPhase(const OutboundMessage& msg,
                                                                 TransactionResult& r) {
  size_t accepted = 0;
  for (size_t i = 0; i < msg.recipients.size(); ++i) {
    if (!ext_.pipelining) {
      wbuf_.assign("RCPT TO:<").append(msg.recipients[i]).append(">\r\n");
      IoStatus w = co_await WriteAll(wbuf_);
      if (!w.ok) {
        Lost(r, "RCPT", w.error);
        co_return std::nullopt;
      }
    }
    SmtpReply rep = co_await ReadReply();
    if (rep.positive()) {
      ++accepted;
    } else if (rep.code >= 400) {
      r.recipients[i] = std::move(rep);
    } else {
      Lost(r, "RCPT", rep.code == 0 ? rep.text : "unexpected reply " + wire::FormatReply(rep));
      co_return std::nullopt;
    }
  }
  co_return accepted;
}

// The DATA reply: true on 354 with recipients to send to; otherwise the transaction is over
// (pending recipients take a DATA refusal, the session is reset or dropped).
asio::awaitable<bool> SmtpConnection::DataPhase(TransactionResult& r, size_t accepted) {
  SmtpReply data;
  if (ext_.pipelining) {
    data = co_await ReadReply();
  } else if (accepted > 0) {
    data = co_await Command("DATA\r\n");
  } else {
    co_await Reset();  // no recipient accepted: RSET instead of DATA
    co_return false;
  }
  if (data.code == 0) {
    Lost(r, "DATA", data.text);
    co_return false;
  }
  if (accepted == 0) {
    if (data.code == 354) {
      Abort();  // must not send an empty message nobody accepted
    } else if (usable_) {
      co_await Reset();
    }
    co_return false;
  }
  if (data.code == 354) co_return true;
  if (data.code < 400) {
    Lost(r, "DATA", "unexpected reply " + wire::FormatReply(data));
    co_return false;
  }
  for (auto& rcpt : r.recipients)
    if (rcpt.code == 0) rcpt = data;
  if (usable_) co_await Reset();
  co_return false;
}

// The dot-stuffed body and the end-of-data reply, which every accepted recipient takes.
asio::awaitable<void> SmtpConnection::BodyPhase(const OutboundMessage& msg, TransactionResult& r,
                                                size_t accepted) {
  IoStatus w = co_await SendBody(msg.body ? std::string_view(*msg.body) : std::string_view());
  if (!w.ok) {
    Lost(r, "message body", w.error);
    co_return;
  }
  SmtpReply fin = co_await ReadReply();
  if (fin.code < 200 || (fin.code >= 300 && fin.code < 400)) {
    Lost(r, "end of data", fin.code == 0 ? fin.text : "unexpected reply " + wire::FormatReply(fin));
    co_return;
  }
  size_t pending = accepted;
  for (auto& rcpt : r.recipients) {
    if (rcpt.code != 0) continue;
    if (--pending == 0) {
      rcpt = std::move(fin);  // the last one takes the reply without a copy
      break;
    }
    rcpt = fin;
  }
}

asio::awaitable<TransactionResult> SmtpConnection::Send(const OutboundMessage& msg) {
  TransactionResult r;
  if (!usable_) {
    r.error = "connection not usable";
    co_return r;
  }
  if (!EnvelopeSendable(msg, r)) co_return r;
  ++transactions_;
  if (!co_await MailPhase(msg, r)) co_return r;
  r.stage = TransactionResult::Stage::kDone;
  r.recipients.resize(msg.recipients.size());  // code 0 marks "pending": accepted, or no answer
  std::optional<size_t> accepted = co_await RcptPhase(msg, r);
  if (!accepted) co_return r;
  if (!co_await DataPhase(r, *accepted)) co_return r;
  co_await BodyPhase(msg, r, *accepted);
  co_return r;
}

asio::awaitable<SmtpConnection::IoStatus> SmtpConnection::SendBody(std::string_view body) {
  wire::DotStuffer stuffer(body);
  wbuf_.clear();
  wbuf_.reserve(std::min(body.size() + body.size() / 32 + 16, kBodyChunk + 64));
  bool more = true;
  IoStatus st;
  while (more) {
    wbuf_.clear();
    more = stuffer.Next(wbuf_, kBodyChunk);
    st = co_await WriteAll(wbuf_);
    if (!st.ok) break;
  }
  if (wbuf_.capacity() > kKeepWbuf) std::string().swap(wbuf_);
  co_return st;
}

asio::awaitable<SmtpReply> SmtpConnection::Verify(const std::string& address, SmtpReply* mail) {
  *mail = co_await Command("MAIL FROM:<>\r\n");
  if (!mail->positive()) co_return SmtpReply{};
  wbuf_.assign("RCPT TO:<").append(address).append(">\r\n");
  SmtpReply rcpt = co_await Command(wbuf_);
  co_return rcpt;
}

asio::awaitable<void> SmtpConnection::Quit() {
  if (closed_) co_return;
  if (usable_) {
    io_timeout_ = std::min(opts_->command_timeout, kQuitTimeout);
    co_await Command("QUIT\r\n");
  }
  Abort();
}

}  // namespace sw::routing
