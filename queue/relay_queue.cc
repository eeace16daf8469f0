// Owns the relay queue's scheduling: accepted messages, per-domain ordered ready sets,
// retry timers, domain up/down with probes, DSNs and expiry. Fails soft: errors defer mail.
#include "queue/relay_queue.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "common/log.h"
#include "common/metrics.h"
#include "queue/dsn.h"
#include "queue/store_await.h"

namespace sw::queue {

namespace asio = boost::asio;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

std::string DomainOf(const std::string& address) {
  size_t at = address.rfind('@');
  if (at == std::string::npos) return "";
  std::string d = address.substr(at + 1);
  for (auto& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return d;
}

// "550 5.1.1 text" -> "5.1.1"; falls back to a class default.
std::string StatusOf(const std::string& reply, bool permanent) {
  size_t sp = reply.find(' ');
  if (sp != std::string::npos) {
    std::string tok = reply.substr(sp + 1, reply.find(' ', sp + 1) - sp - 1);
    if (tok.size() >= 5 && (tok[0] == '4' || tok[0] == '5') && tok[1] == '.') return tok;
  }
  return permanent ? "5.0.0" : "4.0.0";
}

std::string FormatReply(const routing::SmtpReply& r) {
  return std::to_string(r.code) + (r.enhanced.empty() ? "" : " " + r.enhanced) + " " + r.text;
}

}  // namespace

RelayQueue::RelayQueue(asio::io_context& io, QueueStore& store,
                       std::shared_ptr<const config::Config> config, DestinationFactory factory)
    : io_(io),
      store_(store),
      config_(std::move(config)),
      factory_(std::move(factory)),
      wake_(io),
      sweep_(io),
      evict_(io) {}

RelayQueue::~RelayQueue() { Stop(); }

void RelayQueue::Stop() {
  if (stopped_) return;
  stopped_ = true;
  wake_.cancel();
  sweep_.cancel();
  evict_.cancel();
  for (auto& [name, d] : domains_) {
    if (d.probe_timer) d.probe_timer->cancel();
    if (d.dest) d.dest->Close();
  }
}

RelayQueue::DomainState* RelayQueue::Domain(const std::string& name) {
  auto it = domains_.find(name);
  if (it != domains_.end()) return &it->second;
  config::DomainConfig dc;
  bool external = false;
  auto cit = config_->domains.find(name);
  if (cit != config_->domains.end()) {
    dc = cit->second;
  } else {
    // Not a customer domain (a DSN to a sender): through outbound_relay, else by MX lookup
    // (an empty destination list asks the factory for an MX-resolving destination).
    if (name.empty()) return nullptr;
    external = true;
    dc.name = name;
    if (auto relay = config::ParseDestination(config_->delivery.outbound_relay))
      dc.destinations = {*relay};
  }
  DomainState& d = domains_[name];
  d.name = name;
  d.external = external;
  d.idle_since_ms = NowMs();
  d.dest = factory_(dc);
  d.probe_timer = std::make_unique<asio::steady_timer>(io_);
  return &d;
}

void RelayQueue::SetConfig(std::shared_ptr<const config::Config> config) {
  auto old = config_;
  config_ = std::move(config);
  for (auto& [name, d] : domains_) {
    auto before = old->domains.find(name);
    auto after = config_->domains.find(name);
    bool was = before != old->domains.end(), is = after != config_->domains.end();
    bool changed = was != is;
    if (was && is) {
      const auto& a = before->second;
      const auto& b = after->second;
      changed = a.tls != b.tls || a.destinations.size() != b.destinations.size();
      for (size_t i = 0; !changed && i < a.destinations.size(); ++i)
        changed = a.destinations[i].ToString() != b.destinations[i].ToString();
    }
    if (!is && !d.external) changed = true;
    if (!changed) continue;
    config::DomainConfig dc;
    if (is) {
      dc = after->second;
      d.external = false;
    } else {
      d.external = true;
      dc.name = name;
      if (auto relay = config::ParseDestination(config_->delivery.outbound_relay))
        dc.destinations = {*relay};
    }
    // Deliveries and probes in flight hold their own reference: the old destination is
    // freed when the last of them finishes (no longer kept for the life of the process).
    if (d.dest) d.dest->Close();
    d.dest = factory_(dc);
    log::Info("domain_reconfigured").kv("domain", name).kv("configured", is);
  }
}

Status RelayQueue::Load() {
  int64_t now = NowMs();
  size_t count = 0, held = 0;
  std::vector<std::pair<std::string, int64_t>> to_schedule;
  Status st = store_.ScanEnvelopes([&](Envelope&& env) {
    ids_.Observe(env.id);
    std::string id = env.id;
    Entry& e = messages_[id];
    e.env = std::move(env);
    ++count;
    if (e.env.held) ++held;
  });
  // Domain state survives restarts: a domain that was down stays down until a probe.
  for (const auto& [name, dc] : config_->domains) {
    std::string state;
    if (store_.GetMeta("domain/" + name, &state).ok() && state == "down") {
      DomainState* d = Domain(name);
      d->up = false;
      asio::co_spawn(io_, ProbeLoop(name, ++d->probe_gen), asio::detached);
    }
  }
  for (auto& [id, e] : messages_)
    if (!e.env.held)
      ScheduleAllPending(id, e.env.next_attempt_ms <= now ? 0 : e.env.next_attempt_ms);
  if (observer_)
    for (const auto& [name, d] : domains_)
      if (!d.up && !d.external) observer_->DomainDown(name, now, "", BacklogOf(d), true);
  ArmSweep();
  ArmEvict();
  log::Info("queue_loaded").kv("messages", count).kv("held", held);
  return st;
}

asio::awaitable<Status> RelayQueue::Accept(Envelope env, std::shared_ptr<const std::string> body,
                                           std::string* id) {
  if (env.id.empty()) env.id = ids_.Next();
  *id = env.id;
  env.size = body->size();
  Status st = co_await AwaitStore(
      [&](QueueStore::Done done) { store_.Enqueue(env, body, std::move(done)); });
  if (!st.ok()) co_return st;
  ++stats_.accepted;
  std::string qid = env.id;
  Entry& e = messages_[qid];
  e.env = std::move(env);
  // Keep the body in memory only when it is about to be sent: a domain that is down or has
  // a backlog would otherwise pin every queued body in RAM.
  bool imminent = true;
  for (const auto& r : e.env.recipients) {
    auto dit = domains_.find(r.domain);
    if (dit != domains_.end() && (!dit->second.up || dit->second.ready.size() > kHotBacklog))
      imminent = false;
  }
  if (imminent) CacheBody(e, std::move(body));
  ScheduleAllPending(qid, 0);
  co_return st;
}

void RelayQueue::CacheBody(Entry& e, std::shared_ptr<const std::string> body) {
  if (e.body || !body) return;
  if (cache_bytes_ + body->size() > cache_limit_) return;
  cache_bytes_ += body->size();
  e.body = std::move(body);
}

void RelayQueue::DropBody(Entry& e) {
  if (!e.body) return;
  cache_bytes_ -= e.body->size();
  e.body.reset();
}

void RelayQueue::ScheduleAllPending(const std::string& id, int64_t when_ms) {
  auto it = messages_.find(id);
  if (it == messages_.end()) return;
  std::set<std::string> doms;
  for (const auto& r : it->second.env.recipients)
    if (r.state == RcptState::kPending) doms.insert(r.domain);
  for (const auto& d : doms) Schedule(id, d, when_ms);
}

// Only the message's own recipient domains can hold it (O(recipients), not O(domains)).
void RelayQueue::Unschedule(const Envelope& env) {
  for (const auto& r : env.recipients) {
    auto d = domains_.find(r.domain);
    if (d != domains_.end()) d->second.ready.erase(env.id);
  }
}

// Puts (id, domain) in the domain's ready set now, or on the timer list for later.
void RelayQueue::Schedule(const std::string& id, const std::string& domain, int64_t when_ms) {
  if (stopped_) return;
  if (when_ms > NowMs()) {
    // Not idle while a retry waits for it: an evictable domain stays until then.
    if (DomainState* w = Existing(domain)) w->idle_since_ms = std::max(w->idle_since_ms, when_ms);
    waiting_.emplace(when_ms, std::make_pair(id, domain));
    ArmWake();
    return;
  }
  DomainState* d = Domain(domain);
  if (!d) {
    log::Warn("deferred").kv("id", id).kv("domain", domain).kv("reason", "no route to domain");
    waiting_.emplace(NowMs() + config_->queue.retry_interval.count(), std::make_pair(id, domain));
    ArmWake();
    return;
  }
  d->idle_since_ms = std::max(d->idle_since_ms, NowMs());
  d->ready.insert(id);
  Dispatch(*d);
}

void RelayQueue::Dispatch(DomainState& d) {
  uint32_t limit = std::max<uint32_t>(1, config_->delivery.max_connections_per_destination);
  auto it = d.ready.begin();
  while (!stopped_ && d.up && d.active < limit && it != d.ready.end()) {
    std::string id = *it;
    if (d.inflight.count(id)) {  // being delivered: it is rescheduled when that ends
      ++it;
      continue;
    }
    it = d.ready.erase(it);
    auto mit = messages_.find(id);
    if (mit == messages_.end() || mit->second.env.held) continue;
    ++d.active;
    d.inflight.insert(id);
    ++mit->second.inflight;
    asio::co_spawn(io_, DeliverOne(std::move(id), d.name), asio::detached);
  }
}

void RelayQueue::MarkDown(DomainState& d, const std::string& id, const std::string& reason) {
  if (!d.up) return;
  d.up = false;
  if (!d.external) store_.PutMeta("domain/" + d.name, "down");
  log::Warn("domain_down").kv("domain", d.name).kv("id", id).kv("reason", reason);
  if (observer_ && !d.external) observer_->DomainDown(d.name, NowMs(), reason, BacklogOf(d), false);
  asio::co_spawn(io_, ProbeLoop(d.name, ++d.probe_gen), asio::detached);
}

void RelayQueue::MarkUp(DomainState& d, const std::string& relay) {
  if (d.up) return;
  d.up = true;
  ++d.probe_gen;  // the running probe loop, if any, ends at its next step
  d.probe_timer->cancel();
  if (!d.external) store_.PutMeta("domain/" + d.name, "up");
  log::Info("domain_up").kv("domain", d.name).kv("relay", relay).kv("backlog", d.ready.size());
  if (observer_ && !d.external) observer_->DomainUp(d.name, NowMs(), relay, BacklogOf(d));
}

Backlog RelayQueue::BacklogOf(const DomainState& d) const {
  Backlog b;
  b.messages = d.ready.size() + d.inflight.size();
  for (const auto* ids : {&d.ready, &d.inflight}) {
    if (ids->empty()) continue;
    auto it = messages_.find(*ids->begin());
    if (it != messages_.end() &&
        (b.oldest_arrival_ms == 0 || it->second.env.arrival_ms < b.oldest_arrival_ms))
      b.oldest_arrival_ms = it->second.env.arrival_ms;
  }
  return b;
}

routing::OutboundMessage RelayQueue::Outbound(const std::string& id, const std::string& domain,
                                              std::shared_ptr<const std::string> body,
                                              std::vector<size_t>* index) const {
  routing::OutboundMessage msg;
  auto it = messages_.find(id);
  if (it == messages_.end() || !body) return msg;
  msg.id = id;
  msg.sender = it->second.env.sender;
  msg.smtputf8 = it->second.env.smtputf8;
  msg.eightbit = it->second.env.eightbit;
  msg.body = std::move(body);
  for (size_t i = 0; i < it->second.env.recipients.size(); ++i) {
    const auto& r = it->second.env.recipients[i];
    if (r.domain == domain && r.state == RcptState::kPending) {
      msg.recipients.push_back(r.address);
      index->push_back(i);
    }
  }
  return msg;
}

asio::awaitable<void> RelayQueue::DeliverOne(std::string id, std::string domain) {
  std::shared_ptr<const std::string> body;
  {
    auto it = messages_.find(id);
    if (it != messages_.end()) body = it->second.body;
  }
  if (!body) {
    auto [st, b] = co_await AwaitBody(store_, id);
    if (st.ok())
      body = std::move(b);
    else
      log::Error("deferred")
          .kv("id", id)
          .kv("domain", domain)
          .kv("reason", "body unreadable: " + st.message());
  }
  std::vector<size_t> index;
  routing::OutboundMessage msg = Outbound(id, domain, body, &index);
  routing::DeliveryResult res;
  DomainState* d = Domain(domain);
  if (d && !msg.recipients.empty()) {
    std::shared_ptr<routing::Destination> dest = d->dest;  // survives a reload meanwhile
    res = co_await dest->Deliver(msg);
  }
  // Re-find everything: the maps may have changed while we waited.
  d = Domain(domain);
  auto it = messages_.find(id);
  if (d) {
    --d->active;
    d->inflight.erase(id);
  }
  if (it == messages_.end() || !d) co_return;
  Entry& e = it->second;
  --e.inflight;
  Attempt a;
  a.id = id;
  a.domain = domain;
  a.now = NowMs();
  a.transient = !body;
  if (msg.recipients.empty()) {
    // Nothing pending here (or no body: retried later).
  } else if (!res.reached) {
    ++e.env.attempts;
    e.env.last_error = res.error;
    a.transient = true;
    MarkDown(*d, id, res.error);
    log::Info("deferred")
        .kv("id", id)
        .kv("domain", domain)
        .kv("reason", res.error)
        .kv("attempts", e.env.attempts);
  } else {
    ++e.env.attempts;
    RecordReplies(e, index, res, a);
  }
  AfterAttempt(a);
  d = Domain(domain);
  if (!d) co_return;
  if (observer_ && !d->external && !msg.recipients.empty()) {
    if (a.delivered)
      observer_->Delivered(domain, body ? body->size() : 0, BacklogOf(*d).messages);
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
    r.last_reply = FormatReply(rep);
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
    e.env.next_attempt_ms = a.now + (d->up ? config_->queue.retry_interval.count()
                                           : config_->delivery.probe_interval.count());
    store_.Update(e.env, false, nullptr);
    if (d->up) {
      Schedule(a.id, a.domain, e.env.next_attempt_ms);
    } else {
      d->ready.insert(a.id);  // waits for the probe, keeps its place in arrival order
    }
  } else if (e.env.HasPending()) {
    store_.Update(e.env, false, nullptr);
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
    rcpts.push_back(
        {r.address, status.empty() ? StatusOf(r.last_reply, true) : status, r.last_reply, ""});
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
    dsn.recipients = {{sender, DomainOf(sender), RcptState::kPending, ""}};
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
}

// One loop per down period: every wait and probe is followed by a generation check, so a
// loop whose period ended (MarkUp, or a newer MarkDown) exits instead of competing.
asio::awaitable<void> RelayQueue::ProbeLoop(std::string domain, uint64_t gen, bool now) {
  auto current = [&]() -> DomainState* {
    DomainState* d = Existing(domain);  // an evicted domain's loop ends
    return (d && d->probe_gen == gen && !d->up && !stopped_) ? d : nullptr;
  };
  for (;;) {
    DomainState* d = current();
    if (!d) co_return;
    if (!now) {
      d->probe_timer->expires_after(config_->delivery.probe_interval);
      boost::system::error_code ec;
      co_await d->probe_timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      d = current();
      if (!d) co_return;
      if (ec) continue;  // timer re-armed by someone else: wait again
    }
    now = false;
    std::shared_ptr<routing::Destination> dest = d->dest;  // survives a reload meanwhile
    routing::ProbeResult pr = co_await dest->Probe();
    d = current();
    if (!d) co_return;
    if (pr.up) {
      MarkUp(*d, pr.destination);
      Dispatch(*d);
      co_return;
    }
    log::Info("probe_failed")
        .kv("domain", domain)
        .kv("reason", pr.error)
        .kv("backlog", d->ready.size());
    if (observer_ && !d->external) observer_->ProbeFailed(domain, pr.error, BacklogOf(*d));
  }
}

void RelayQueue::ProbeNow(const std::string& domain) {
  auto it = domains_.find(domain);
  if (stopped_ || it == domains_.end() || it->second.up || it->second.external) return;
  DomainState& d = it->second;
  d.probe_timer->cancel();
  log::Info("probe_now").kv("domain", domain).kv("backlog", d.ready.size());
  // A new generation: the loop waiting on the timer exits, this one probes at once.
  asio::co_spawn(io_, ProbeLoop(domain, ++d.probe_gen, true), asio::detached);
}

void RelayQueue::ArmWake() {
  if (waiting_.empty() || stopped_) return;
  int64_t first = waiting_.begin()->first;
  if (wake_at_ != 0 && wake_at_ <= first) return;
  wake_at_ = first;
  wake_.expires_after(std::chrono::milliseconds(std::max<int64_t>(0, first - NowMs())));
  wake_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    wake_at_ = 0;
    OnWake();
  });
}

void RelayQueue::OnWake() {
  int64_t now = NowMs();
  std::vector<std::pair<std::string, std::string>> due;
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    due.push_back(std::move(waiting_.begin()->second));
    waiting_.erase(waiting_.begin());
  }
  for (auto& [id, dom] : due) {
    auto it = messages_.find(id);
    if (it == messages_.end() || it->second.env.held) continue;
    Schedule(id, dom, 0);
  }
  ArmWake();
}

// Expiry and delay warnings for messages that are not being attempted (a down domain's
// backlog waits for probes, so it is checked here rather than after attempts).
void RelayQueue::ArmSweep() {
  auto every = std::clamp<int64_t>(config_->queue.max_age.count() / 4, 500, 60000);
  if (config_->queue.delay_warning)
    every =
        std::min<int64_t>(every, std::max<int64_t>(500, config_->queue.delay_warning->count() / 4));
  sweep_.expires_after(std::chrono::milliseconds(every));
  sweep_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    asio::co_spawn(io_, Sweep(), asio::detached);
  });
}

asio::awaitable<void> RelayQueue::Sweep() {
  int64_t now = NowMs();
  std::vector<std::string> expire, warn;
  // messages_ is ordered by ID, i.e. by arrival: only the old prefix can be due.
  int64_t horizon = config_->queue.max_age.count();
  if (config_->queue.delay_warning)
    horizon = std::min(horizon, config_->queue.delay_warning->count());
  for (const auto& [id, e] : messages_) {
    int64_t age = now - e.env.arrival_ms;
    if (age < horizon) break;
    if (e.env.held || e.inflight > 0 || !e.env.HasPending()) continue;
    if (age >= config_->queue.max_age.count()) {
      expire.push_back(id);
    } else if (config_->queue.delay_warning && !e.env.delay_warned && !e.env.sender.empty() &&
               !e.env.spam_tagged && age >= config_->queue.delay_warning->count()) {
      warn.push_back(id);
    }
  }
  for (const auto& id : expire) {
    auto it = messages_.find(id);
    if (it == messages_.end()) continue;
    std::vector<size_t> pending;
    for (size_t i = 0; i < it->second.env.recipients.size(); ++i)
      if (it->second.env.recipients[i].state == RcptState::kPending) pending.push_back(i);
    log::Info("expired")
        .kv("id", id)
        .kv("age_ms", now - it->second.env.arrival_ms)
        .kv("reason", it->second.env.last_error);
    ++stats_.expired;
    FailRecipients(id, pending, "4.4.7", "message expired: " + it->second.env.last_error);
  }
  for (const auto& id : warn) {
    auto it = messages_.find(id);
    if (it == messages_.end()) continue;
    it->second.env.delay_warned = true;
    store_.Update(it->second.env, false, nullptr);
    std::vector<DsnRecipient> rcpts;
    for (const auto& r : it->second.env.recipients)
      if (r.state == RcptState::kPending)
        rcpts.push_back({r.address, StatusOf(r.last_reply, false),
                         r.last_reply.empty() ? it->second.env.last_error : r.last_reply, ""});
    co_await SendDsn(id, std::move(rcpts), true);
  }
  ArmSweep();
}

}  // namespace sw::queue
