// Owns the relay queue's delivery attempts: sending, judging replies, retries, bounces with
// their DSNs, expiry and finishing. Fails soft: errors defer, never drop, mail.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "common/log.h"
#include "common/metrics.h"
#include "queue/dsn.h"
#include "queue/relay_queue.h"
#include "queue/relay_queue_text.h"
#include "queue/store_await.h"

namespace sw::queue {

namespace asio = boost::asio;

asio::awaitable<void> RelayQueue::Send(const std::string& id, const std::string& domain,
                                       Sent* out) {
  if (auto it = messages_.find(id); it != messages_.end()) out->body = it->second.body;
  if (!out->body) {
    auto [st, b] = co_await AwaitBody(store_, id);
    if (st.ok())
      out->body = std::move(b);
    else
      log::Error("deferred")
          .kv("id", id)
          .kv("domain", domain)
          .kv("reason", "body unreadable: " + st.message());
  }
  out->msg = Outbound(id, domain, out->body, &out->index);
  DomainState* d = Domain(domain);
  if (d && !out->msg.recipients.empty()) {
    std::shared_ptr<routing::Destination> dest = d->dest;  // survives a reload meanwhile
    out->res = co_await dest->Deliver(out->msg);
  }
}

void RelayQueue::Judge(Entry& e, DomainState& d, const Sent& s, Attempt& a) {
  if (s.msg.recipients.empty()) {
    // Nothing pending here (or no body: retried later).
  } else if (!s.res.reached) {
    ++e.env.attempts;
    e.env.last_error = s.res.error;
    a.transient = true;
    MarkDown(d, a.id, s.res.error);
    log::Info("deferred")
        .kv("id", a.id)
        .kv("domain", a.domain)
        .kv("reason", s.res.error)
        .kv("attempts", e.env.attempts);
  } else {
    ++e.env.attempts;
    RecordReplies(e, s.index, s.res, a);
  }
}

asio::awaitable<void> RelayQueue::DeliverOne(std::string id, std::string domain) {
  Sent s;
  co_await Send(id, domain, &s);
  // Re-find everything: the maps may have changed while we waited.
  DomainState* d = Domain(domain);
  auto it = messages_.find(id);
  if (it == messages_.end() || !d) {
    if (d) {
      --d->active;
      d->inflight.erase(id);
    }
    co_return;
  }
  Entry& e = it->second;
  Attempt a;
  a.id = id;
  a.domain = domain;
  a.now = NowMs();
  a.transient = !s.body;
  Judge(e, *d, s, a);  // still in flight here: a domain marked down cannot evict it
  --d->active;
  d->inflight.erase(id);
  --e.inflight;
  AfterAttempt(a);  // may evict the entry
  d = Domain(domain);
  if (!d) co_return;
  if (observer_ && !d->external && !s.msg.recipients.empty()) {
    if (a.delivered)
      observer_->Delivered(domain, s.body ? s.body->size() : 0, BacklogOf(*d).messages);
    else if (a.transient)
      observer_->Deferred(domain);
  }
  d->idle_since_ms = std::max(d->idle_since_ms, NowMs());
  Dispatch(*d);
}

// One reply per recipient of the attempt: delivered, failed (collected) or deferred.
void RelayQueue::RecordReplies(Entry& e, const std::vector<size_t>& index,
                               const routing::DeliveryResult& res, Attempt& a) {
  for (size_t k = 0; k < index.size() && k < res.recipients.size(); ++k) {
    auto& r = e.env.recipients[index[k]];
    const auto& rep = res.recipients[k];
    r.last_reply = detail::FormatReply(rep);
    if (rep.positive()) {
      r.state = RcptState::kDelivered;
      a.delivered = true;
      ++stats_.delivered;
      log::Info("delivered")
          .kv("id", a.id)
          .kv("to", r.address)
          .kv("relay", res.destination)
          .kv("tls", res.tls)
          .kv("delay_ms", a.now - e.env.arrival_ms)
          .kv("reply", r.last_reply);
      metrics::DeliveryLatency().Observe(static_cast<double>(a.now - e.env.arrival_ms) / 1000.0);
    } else if (rep.permanent()) {
      a.failed.push_back(index[k]);
      log::Info("bounced")
          .kv("id", a.id)
          .kv("to", r.address)
          .kv("relay", res.destination)
          .kv("reply", r.last_reply);
    } else {
      a.transient = true;
      e.env.last_error = r.last_reply;
      log::Info("deferred")
          .kv("id", a.id)
          .kv("to", r.address)
          .kv("relay", res.destination)
          .kv("reason", r.last_reply)
          .kv("attempts", e.env.attempts);
    }
  }
}

// After an attempt: bounce the failed, expire the too old, reschedule the deferred, finish
// the done.
void RelayQueue::AfterAttempt(const Attempt& a) {
  if (!a.failed.empty()) FailRecipients(a.id, a.failed, "", "");
  auto it = messages_.find(a.id);
  DomainState* d = Domain(a.domain);
  if (it == messages_.end() || !d) return;
  Entry& e = it->second;
  if (a.transient && a.now - e.env.arrival_ms >= config_->queue.max_age.count()) {
    std::vector<size_t> pending;
    for (size_t i = 0; i < e.env.recipients.size(); ++i)
      if (e.env.recipients[i].state == RcptState::kPending) pending.push_back(i);
    log::Info("expired")
        .kv("id", a.id)
        .kv("age_ms", a.now - e.env.arrival_ms)
        .kv("reason", e.env.last_error);
    ++stats_.expired;
    FailRecipients(a.id, pending, "4.4.7", "message expired: " + e.env.last_error);
  } else if (a.transient) {
    ++stats_.deferred;
    DropBody(e);
    int64_t wait =
        d->up ? config_->queue.retry_interval.count() : config_->delivery.probe_interval.count();
    e.env.next_attempt_ms = a.now + wait;
    // The same write puts it in the next-attempt index (by_retry).
    store_.Update(e.env, false, nullptr);
    if (d->up && wait <= kMemoryRetryMs) {
      Schedule(a.id, a.domain, e.env.next_attempt_ms);  // soon: a timer in memory
    } else {
      // Leaves memory: the next-attempt index brings it back when due (a 4xx while the
      // domain is up); a down domain's window reads it after the probe, in arrival order.
      d->idle_since_ms = std::max(d->idle_since_ms, e.env.next_attempt_ms);
      if (d->up) ArmRetry(e.env.next_attempt_ms);
      MaybeEvict(a.id);
    }
  } else if (e.env.HasPending()) {
    store_.Update(e.env, false, nullptr);
    MaybeEvict(a.id);  // other domains take it when their windows reach it
  } else if (a.failed.empty() && e.inflight == 0) {
    Finish(a.id);  // with failures, FailRecipients finishes once the DSN is durable
  }
}

// Marks recipients failed and spawns the DSN; the message leaves the queue once the DSN is
// durable and nothing else is pending. `status` empty: taken from each recipient's reply.
void RelayQueue::FailRecipients(const std::string& id, const std::vector<size_t>& which,
                                const std::string& status, const std::string& reason) {
  auto it = messages_.find(id);
  if (it == messages_.end()) return;
  std::vector<DsnRecipient> rcpts;
  for (size_t i : which) {
    auto& r = it->second.env.recipients[i];
    if (r.state != RcptState::kPending) continue;
    r.state = RcptState::kFailed;
    ++stats_.bounced;
    if (!reason.empty()) r.last_reply = reason;
    rcpts.push_back({r.address, status.empty() ? detail::StatusOf(r.last_reply, true) : status,
                     r.last_reply, ""});
  }
  if (!it->second.env.HasPending()) Unschedule(it->second.env);
  ++it->second.inflight;  // keeps the message until the DSN is queued
  asio::co_spawn(io_, SendDsn(id, std::move(rcpts), false), asio::detached);
}

asio::awaitable<void> RelayQueue::SendDsn(std::string id, std::vector<DsnRecipient> rcpts,
                                          bool delayed) {
  auto it = messages_.find(id);
  if (it == messages_.end()) co_return;
  const std::string sender = it->second.env.sender;
  const bool spam_tagged = it->second.env.spam_tagged;
  bool sent = false;
  if (sender.empty()) {
    log::Info("dsn_skipped").kv("id", id).kv("reason", "null sender");
  } else if (spam_tagged) {  // no backscatter: logged and dropped
    log::Info("dsn_skipped").kv("id", id).kv("reason", "spam-tagged").kv("to", sender);
  } else if (!rcpts.empty()) {
    std::shared_ptr<const std::string> body = it->second.body;
    if (!body) {
      auto [st, b] = co_await AwaitBody(store_, id);
      if (st.ok()) body = std::move(b);
    }
    it = messages_.find(id);
    if (it == messages_.end()) co_return;
    DsnInput in;
    in.kind = delayed ? DsnKind::kDelayed : DsnKind::kFailed;
    in.hostname = config_->server.hostname;
    in.queue_id = id;
    in.sender = sender;
    in.arrival_ms = it->second.env.arrival_ms;
    in.recipients = std::move(rcpts);
    in.original = body.get();
    auto dsn_body = std::make_shared<const std::string>(BuildDsn(in));
    Envelope dsn;
    dsn.arrival_ms = NowMs();
    dsn.sender = "";
    dsn.helo = config_->server.hostname;
    dsn.client_ip = "127.0.0.1";
    dsn.smtputf8 = it->second.env.smtputf8;
    dsn.recipients = {{sender, detail::DomainOf(sender), RcptState::kPending, ""}};
    std::string dsn_id;
    Status st = co_await Accept(std::move(dsn), dsn_body, &dsn_id);
    if (st.ok()) {
      sent = true;
      ++stats_.dsn_sent;
      log::Info("dsn_queued")
          .kv("id", id)
          .kv("dsn_id", dsn_id)
          .kv("to", sender)
          .kv("kind", delayed ? "delayed" : "failed");
    } else {
      log::Error("dsn_failed").kv("id", id).kv("reason", st.message());
    }
  }
  it = messages_.find(id);
  if (it == messages_.end()) co_return;
  if (delayed) co_return;
  --it->second.inflight;
  if (!sent && !sender.empty() && !spam_tagged) {
    // Could not queue the DSN (disk): keep the message, try the bounce again later.
    store_.Update(it->second.env, true, nullptr);
    co_return;
  }
  if (!it->second.env.HasPending() && it->second.inflight == 0) {
    Finish(id);
  } else {
    store_.Update(it->second.env, false, nullptr);
  }
}

void RelayQueue::Finish(const std::string& id) {
  auto it = messages_.find(id);
  if (it == messages_.end()) return;
  DropBody(it->second);
  Unschedule(it->second.env);
  messages_.erase(it);
  store_.Remove(id, nullptr);
  if (reads_ > 0) gone_.insert(id);
  WakeStarved();
}

}  // namespace sw::queue
