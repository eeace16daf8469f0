// Owns delivery to one domain's configured destinations: resolution, ordering, pooling, results.
// Fails by result: unreachable destinations give reached=false with the reasons; never throws.
#include "routing/smtp_destination.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"
#include "routing/connection_pool.h"
#include "routing/smtp_connection.h"
#include "routing/smtp_wire.h"

namespace sw::routing {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr auto kResolveTtl = std::chrono::seconds(60);
constexpr auto kResolveFailTtl = std::chrono::seconds(5);

std::string KeyOf(const asio::ip::tcp::endpoint& ep) {
  std::string s;
  if (ep.address().is_v6()) {
    s.append("[").append(ep.address().to_string()).append("]");
  } else {
    s = ep.address().to_string();
  }
  return s.append(":").append(std::to_string(ep.port()));
}

std::shared_ptr<asio::ssl::context> NewTlsContext(config::TlsPolicy policy) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_compression,
                   ec);
  if (policy == config::TlsPolicy::kVerify) {
    ctx->set_default_verify_paths(ec);
    if (ec) sw::log::Warn("tls_verify_paths_failed").kv("reason", ec.message());
    ctx->set_verify_mode(asio::ssl::verify_peer, ec);
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none, ec);
  }
  return ctx;
}

// One immutable client context per TLS policy, shared by every destination: OpenSSL 3's
// SSL_CTX_new costs about a millisecond, paid once instead of once per customer domain.
std::shared_ptr<asio::ssl::context> MakeTlsContext(config::TlsPolicy policy) {
  static const std::shared_ptr<asio::ssl::context> kContexts[] = {
      NewTlsContext(config::TlsPolicy::kOpportunistic), NewTlsContext(config::TlsPolicy::kRequired),
      NewTlsContext(config::TlsPolicy::kVerify)};
  switch (policy) {
    case config::TlsPolicy::kRequired:
      return kContexts[1];
    case config::TlsPolicy::kVerify:
      return kContexts[2];
    default:
      return kContexts[0];
  }
}

void AppendError(std::string& to, std::string_view what) {
  if (!to.empty()) to.append("; ");
  to.append(what);
}

}  // namespace

SmtpDestination::SmtpDestination(asio::any_io_executor ex, std::string hostname,
                                 std::vector<config::Destination> destinations,
                                 config::TlsPolicy tls, const config::DeliveryConfig& delivery,
                                 std::string domain, std::shared_ptr<ConnectionPool> shared_pool)
    : ex_(ex),
      domain_(std::move(domain)),
      resolver_(ex),
      pool_(shared_pool ? shared_pool
                        : std::make_shared<ConnectionPool>(
                              ex, delivery.max_connections_per_destination, delivery.idle_timeout)),
      shared_pool_(shared_pool != nullptr) {
  auto opts = std::make_shared<SmtpClientOptions>();
  opts->helo_name = std::move(hostname);
  opts->tls = tls;
  opts->connect_timeout = delivery.connect_timeout;
  opts->command_timeout = delivery.command_timeout;
  opts->ssl = MakeTlsContext(tls);
  opts_ = std::move(opts);

  targets_.reserve(destinations.size());
  for (auto& d : destinations) {
    Target t;
    t.label = d.host + ":" + std::to_string(d.port);
    error_code ec;
    auto addr = asio::ip::make_address(d.host, ec);
    if (!ec) {  // numeric, bracketed or not: never resolved
      auto eps = std::make_shared<Endpoints>();
      eps->addrs.emplace_back(addr, d.port);
      eps->keys.push_back(KeyOf(eps->addrs.back()));
      t.endpoints = std::move(eps);
      t.expires = clock::time_point::max();
    }
    t.dest = std::move(d);
    targets_.push_back(std::move(t));
  }
}

SmtpDestination::~SmtpDestination() {
  if (!shared_pool_) pool_->Close();
}

// A shared pool outlives this destination; its idle connections serve the other domains.
void SmtpDestination::Close() {
  if (!shared_pool_) pool_->Close();
}

asio::awaitable<std::shared_ptr<const SmtpDestination::Endpoints>> SmtpDestination::Resolve(
    Target& t) {
  if (t.endpoints && clock::now() < t.expires) co_return t.endpoints;
  if (t.inflight) {  // another delivery is resolving this name: wait for its answer
    std::shared_ptr<asio::steady_timer> wait = t.inflight;
    co_await wait->async_wait(kToken);
    co_return t.endpoints;
  }
  t.inflight = std::make_shared<asio::steady_timer>(ex_, asio::steady_timer::time_point::max());
  auto [ec, results] =
      co_await resolver_.async_resolve(t.dest.host, std::to_string(t.dest.port), kToken);
  auto eps = std::make_shared<Endpoints>();
  if (ec) {
    eps->error = t.label + ": resolve: " + ec.message();
  } else {
    for (const auto& entry : results) {
      eps->addrs.push_back(entry.endpoint());
      eps->keys.push_back(KeyOf(entry.endpoint()));
    }
    if (eps->addrs.empty()) eps->error = t.label + ": resolve: no addresses";
  }
  if (!eps->addrs.empty()) {
    t.expires = clock::now() + kResolveTtl;
    t.endpoints = std::move(eps);
  } else {
    // A DNS failure keeps the last good answer (serve stale) and is retried a bit later.
    t.expires = clock::now() + kResolveFailTtl;
    if (!t.endpoints || t.endpoints->addrs.empty()) t.endpoints = std::move(eps);
    sw::log::Debug("resolve_failed")
        .kv("domain", domain_)
        .kv("destination", t.label)
        .kv("stale", t.endpoints->addrs.empty() ? "no" : "yes");
  }
  std::shared_ptr<asio::steady_timer> done = std::move(t.inflight);
  t.inflight.reset();
  done->cancel();  // wakes every waiter
  co_return t.endpoints;
}

asio::awaitable<SmtpDestination::Attempt> SmtpDestination::TryEndpoint(const Target& t,
                                                                       const tcp::endpoint& ep,
                                                                       const std::string& key,
                                                                       const OutboundMessage& msg,
                                                                       DeliveryResult& result) {
  using Stage = TransactionResult::Stage;
  Attempt a;
  // In a shared pool a connection is reused only for the same TLS policy and host name (the
  // name a verified certificate must match); the log keeps the plain "ip:port".
  const std::string pool_key =
      shared_pool_ ? std::to_string(static_cast<int>(opts_->tls)) + "|" + t.dest.host + "|" + key
                   : key;
  ConnectionPool::Lease lease = co_await pool_->Acquire(pool_key);
  if (!lease.granted) {
    a.error = key + ": cancelled while waiting for a connection";
    co_return a;
  }
  std::shared_ptr<SmtpConnection> conn = std::move(lease.conn);
  bool reused = conn != nullptr;
  for (;;) {
    sw::log::Debug("relay_attempt")
        .kv("id", msg.id)
        .kv("domain", domain_)
        .kv("destination", t.label)
        .kv("endpoint", key)
        .kv("reused", reused);
    if (!conn) {
      conn = SmtpConnection::Create(ex_, opts_);
      OpenResult open = co_await conn->Open(ep, t.dest.host);
      if (!open.ok) {
        pool_->Release(pool_key, nullptr);
        a.error = key + ": " + open.error;
        sw::log::Debug("relay_attempt_failed")
            .kv("id", msg.id)
            .kv("endpoint", key)
            .kv("reason", open.error);
        co_return a;
      }
    }
    TransactionResult tr = co_await conn->Send(msg);
    switch (tr.stage) {
      case Stage::kNotStarted:
        if (reused) {  // a pooled connection went stale: once more on a fresh one, same slot
          sw::log::Debug("relay_stale_connection")
              .kv("id", msg.id)
              .kv("endpoint", key)
              .kv("reason", tr.error);
          conn->Abort();
          conn.reset();
          reused = false;
          continue;
        }
        [[fallthrough]];
      case Stage::kMailTransient:
        a.error = key + ": " + tr.error;
        sw::log::Debug("relay_attempt_failed")
            .kv("id", msg.id)
            .kv("endpoint", key)
            .kv("reason", tr.error);
        pool_->Release(pool_key, std::move(conn));
        co_return a;
      case Stage::kMailPermanent:
        result.recipients.assign(msg.recipients.size(), tr.mail_reply);
        break;
      case Stage::kDone:
        result.recipients = std::move(tr.recipients);
        break;
    }
    result.reached = true;
    result.destination = t.label;
    result.tls = conn->tls();
    pool_->Release(pool_key, std::move(conn));
    a.done = true;
    co_return a;
  }
}

asio::awaitable<DeliveryResult> SmtpDestination::Deliver(const OutboundMessage& msg) {
  DeliveryResult result;
  if (msg.recipients.empty()) {
    result.reached = true;  // nothing to do
    co_return result;
  }
  for (Target& t : targets_) {
    std::shared_ptr<const Endpoints> eps = co_await Resolve(t);
    std::string reasons;
    if (eps->addrs.empty()) reasons = eps->error;
    for (size_t i = 0; i < eps->addrs.size(); ++i) {
      Attempt a = co_await TryEndpoint(t, eps->addrs[i], eps->keys[i], msg, result);
      if (a.done) co_return result;
      AppendError(reasons, a.error);
    }
    sw::log::Info("destination_failed")
        .kv("id", msg.id)
        .kv("domain", domain_)
        .kv("destination", t.label)
        .kv("reason", reasons);
    AppendError(result.error, reasons);
  }
  if (targets_.empty()) result.error = "no destinations configured";
  result.reached = false;
  co_return result;
}

asio::awaitable<ProbeResult> SmtpDestination::Probe() {
  ProbeResult pr;
  for (Target& t : targets_) {
    std::shared_ptr<const Endpoints> eps = co_await Resolve(t);
    if (eps->addrs.empty()) AppendError(pr.error, eps->error);
    for (size_t i = 0; i < eps->addrs.size(); ++i) {
      auto conn = SmtpConnection::Create(ex_, opts_);
      OpenResult open = co_await conn->Open(eps->addrs[i], t.dest.host);
      if (open.ok) {
        co_await conn->Quit();
        pr.up = true;
        pr.destination = t.label;
        pr.error.clear();
        co_return pr;
      }
      sw::log::Debug("probe_failed")
          .kv("domain", domain_)
          .kv("endpoint", eps->keys[i])
          .kv("reason", open.error);
      AppendError(pr.error, eps->keys[i] + ": " + open.error);
    }
  }
  if (targets_.empty()) pr.error = "no destinations configured";
  co_return pr;
}

asio::awaitable<VerifyResult> SmtpDestination::Verify(const std::string& address,
                                                      std::chrono::milliseconds timeout) {
  VerifyResult vr;
  auto opts = std::make_shared<SmtpClientOptions>(*opts_);
  opts->connect_timeout = std::min(opts->connect_timeout, config::Duration(timeout));
  opts->command_timeout = std::min(opts->command_timeout, config::Duration(timeout));
  for (Target& t : targets_) {
    std::shared_ptr<const Endpoints> eps = co_await Resolve(t);
    if (eps->addrs.empty()) AppendError(vr.error, eps->error);
    for (size_t i = 0; i < eps->addrs.size(); ++i) {
      auto conn = SmtpConnection::Create(ex_, opts);
      OpenResult open = co_await conn->Open(eps->addrs[i], t.dest.host);
      if (!open.ok) {
        AppendError(vr.error, eps->keys[i] + ": " + open.error);
        vr.reply = open.reply;
        continue;
      }
      SmtpReply mail;
      SmtpReply rcpt = co_await conn->Verify(address, &mail);
      co_await conn->Quit();
      if (rcpt.code == 0) {  // MAIL refused or the connection lost: try the next one
        vr.reply = mail.code != 0 ? mail : rcpt;
        AppendError(vr.error,
                    eps->keys[i] + ": " +
                        (mail.positive() || mail.code == 0
                             ? "RCPT: " + rcpt.text
                             : "MAIL FROM:<>: " + std::to_string(mail.code) + " " + mail.text));
        continue;
      }
      vr.answered = true;
      vr.reply = std::move(rcpt);
      vr.destination = t.label;
      vr.error.clear();
      co_return vr;
    }
  }
  if (targets_.empty()) vr.error = "no destinations configured";
  co_return vr;
}

}  // namespace sw::routing
