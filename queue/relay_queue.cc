// Owns the relay queue's scheduling: accepted messages, per-domain ordered ready sets,
// retry timers, domain up/down with probes. Fails soft: errors defer, never drop, mail.
#include "queue/relay_queue.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "common/log.h"
#include "queue/store_await.h"

namespace sw::queue {

namespace asio = boost::asio;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

RelayQueue::RelayQueue(asio::io_context& io, QueueStore& store,
                       std::shared_ptr<const config::Config> config, DestinationFactory factory)
    : io_(io),
      store_(store),
      config_(std::move(config)),
      factory_(std::move(factory)),
      wake_(io) {}

RelayQueue::~RelayQueue() { Stop(); }

void RelayQueue::Stop() {
  if (stopped_) return;
  stopped_ = true;
  wake_.cancel();
  for (auto& [name, d] : domains_) {
    if (d.probe_timer) d.probe_timer->cancel();
    if (d.dest) d.dest->Close();
  }
}

RelayQueue::DomainState* RelayQueue::Domain(const std::string& name) {
  auto it = domains_.find(name);
  if (it != domains_.end()) return &it->second;
  auto cit = config_->domains.find(name);
  if (cit == config_->domains.end()) return nullptr;
  DomainState& d = domains_[name];
  d.name = name;
  d.dest = factory_(cit->second);
  d.probe_timer = std::make_unique<asio::steady_timer>(io_);
  return &d;
}

Status RelayQueue::Load() {
  int64_t now = NowMs();
  size_t count = 0, held = 0;
  Status st = store_.ScanEnvelopes([&](Envelope&& env) {
    ids_.Observe(env.id);
    std::string id = env.id;
    Entry& e = messages_[id];
    e.env = std::move(env);
    ++count;
    if (e.env.held) {
      ++held;
      return;
    }
    std::set<std::string> doms;
    for (const auto& r : e.env.recipients)
      if (r.state == RcptState::kPending) doms.insert(r.domain);
    for (const auto& d : doms) Schedule(id, d, e.env.next_attempt_ms <= now ? 0 : e.env.next_attempt_ms);
  });
  log::Info("queue_loaded").kv("messages", count).kv("held", held);
  return st;
}

asio::awaitable<Status> RelayQueue::Accept(Envelope env, std::shared_ptr<const std::string> body,
                                           std::string* id) {
  if (env.id.empty()) env.id = ids_.Next();
  *id = env.id;
  env.size = body->size();
  Status st = co_await AwaitStore([&](QueueStore::Done done) {
    store_.Enqueue(env, body, std::move(done));
  });
  if (!st.ok()) co_return st;
  ++stats_.accepted;
  std::string qid = env.id;
  Entry& e = messages_[qid];
  e.env = std::move(env);
  CacheBody(e, std::move(body));
  std::set<std::string> doms;
  for (const auto& r : e.env.recipients)
    if (r.state == RcptState::kPending) doms.insert(r.domain);
  for (const auto& d : doms) Schedule(qid, d, 0);
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

// Puts (id, domain) in the domain's ready set now, or on the timer list for later.
void RelayQueue::Schedule(const std::string& id, const std::string& domain, int64_t when_ms) {
  if (stopped_) return;
  if (when_ms > NowMs()) {
    waiting_.emplace(when_ms, std::make_pair(id, domain));
    ArmWake();
    return;
  }
  DomainState* d = Domain(domain);
  if (!d) {
    // Domain no longer configured: keep the message, look again after retry_interval.
    log::Warn("deferred").kv("id", id).kv("domain", domain).kv("reason", "domain not configured");
    waiting_.emplace(NowMs() + config_->queue.retry_interval.count(), std::make_pair(id, domain));
    ArmWake();
    return;
  }
  d->ready.insert(id);
  Dispatch(*d);
}

void RelayQueue::Dispatch(DomainState& d) {
  uint32_t limit = std::max<uint32_t>(1, config_->delivery.max_connections_per_destination);
  while (!stopped_ && d.up && d.active < limit && !d.ready.empty()) {
    std::string id = *d.ready.begin();
    d.ready.erase(d.ready.begin());
    auto it = messages_.find(id);
    if (it == messages_.end() || it->second.env.held) continue;
    ++d.active;
    ++it->second.inflight;
    asio::co_spawn(io_, DeliverOne(std::move(id), d.name), asio::detached);
  }
}

asio::awaitable<void> RelayQueue::DeliverOne(std::string id, std::string domain) {
  std::shared_ptr<const std::string> body;
  {
    auto it = messages_.find(id);
    if (it != messages_.end()) body = it->second.body;
  }
  if (!body) {
    auto [st, b] = co_await AwaitBody(store_, id);
    if (!st.ok()) {
      log::Error("deferred").kv("id", id).kv("domain", domain).kv("reason", "body unreadable: " + st.message());
      body = nullptr;
    } else {
      body = std::move(b);
    }
  }
  DomainState* d = Domain(domain);
  auto it = messages_.find(id);
  if (!d || it == messages_.end()) {
    if (d) --d->active;
    co_return;
  }
  if (!body) {
    --d->active;
    --it->second.inflight;
    Schedule(id, domain, NowMs() + config_->queue.retry_interval.count());
    co_return;
  }
  routing::OutboundMessage msg;
  msg.id = id;
  msg.sender = it->second.env.sender;
  msg.smtputf8 = it->second.env.smtputf8;
  msg.eightbit = it->second.env.eightbit;
  msg.body = body;
  std::vector<size_t> index;
  for (size_t i = 0; i < it->second.env.recipients.size(); ++i) {
    const auto& r = it->second.env.recipients[i];
    if (r.domain == domain && r.state == RcptState::kPending) {
      msg.recipients.push_back(r.address);
      index.push_back(i);
    }
  }
  routing::DeliveryResult res;
  if (!msg.recipients.empty()) res = co_await d->dest->Deliver(msg);
  // Re-find: the map may have changed while we waited.
  d = Domain(domain);
  it = messages_.find(id);
  if (d) --d->active;
  if (it == messages_.end() || !d) co_return;
  Entry& e = it->second;
  --e.inflight;
  int64_t now = NowMs();
  bool transient = false;
  if (msg.recipients.empty()) {
    // nothing pending for this domain
  } else if (!res.reached) {
    ++e.env.attempts;
    e.env.last_error = res.error;
    transient = true;
    if (d->up) {
      d->up = false;
      log::Warn("domain_down").kv("domain", domain).kv("id", id).kv("reason", res.error);
      asio::co_spawn(io_, ProbeLoop(domain), asio::detached);
    }
    log::Info("deferred")
        .kv("id", id)
        .kv("domain", domain)
        .kv("reason", res.error)
        .kv("attempts", e.env.attempts);
  } else {
    ++e.env.attempts;
    for (size_t k = 0; k < index.size() && k < res.recipients.size(); ++k) {
      auto& r = e.env.recipients[index[k]];
      const auto& rep = res.recipients[k];
      r.last_reply = std::to_string(rep.code) + (rep.enhanced.empty() ? "" : " " + rep.enhanced) +
                     " " + rep.text;
      if (rep.positive()) {
        r.state = RcptState::kDelivered;
        ++stats_.delivered;
        log::Info("delivered")
            .kv("id", id)
            .kv("to", r.address)
            .kv("relay", res.destination)
            .kv("tls", res.tls)
            .kv("delay_ms", now - e.env.arrival_ms)
            .kv("reply", r.last_reply);
      } else if (rep.permanent()) {
        r.state = RcptState::kFailed;
        ++stats_.bounced;
        log::Info("bounced")
            .kv("id", id)
            .kv("to", r.address)
            .kv("relay", res.destination)
            .kv("reply", r.last_reply);
      } else {
        transient = true;
        e.env.last_error = r.last_reply;
        log::Info("deferred")
            .kv("id", id)
            .kv("to", r.address)
            .kv("relay", res.destination)
            .kv("reason", r.last_reply)
            .kv("attempts", e.env.attempts);
      }
    }
  }
  if (transient) {
    ++stats_.deferred;
    DropBody(e);
    e.env.next_attempt_ms = now + (d->up ? config_->queue.retry_interval.count()
                                         : config_->delivery.probe_interval.count());
    store_.Update(e.env, false, nullptr);
    if (d->up) {
      Schedule(id, domain, e.env.next_attempt_ms);
    } else {
      d->ready.insert(id);  // waits for the probe, keeps its place in arrival order
    }
  } else if (!e.env.HasPending()) {
    if (e.inflight == 0) Finish(id);
  } else {
    store_.Update(e.env, false, nullptr);
  }
  Dispatch(*d);
}

void RelayQueue::Finish(const std::string& id) {
  auto it = messages_.find(id);
  if (it == messages_.end()) return;
  DropBody(it->second);
  messages_.erase(it);
  store_.Remove(id, nullptr);
}

asio::awaitable<void> RelayQueue::ProbeLoop(std::string domain) {
  DomainState* d = Domain(domain);
  if (!d || d->probing) co_return;
  d->probing = true;
  while (!stopped_) {
    d = Domain(domain);
    if (!d) co_return;
    d->probe_timer->expires_after(config_->delivery.probe_interval);
    boost::system::error_code ec;
    co_await d->probe_timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) co_return;
    d = Domain(domain);
    if (!d) co_return;
    routing::ProbeResult pr = co_await d->dest->Probe();
    d = Domain(domain);
    if (!d) co_return;
    if (pr.up) {
      d->up = true;
      d->probing = false;
      log::Info("domain_up").kv("domain", domain).kv("relay", pr.destination).kv("backlog", d->ready.size());
      Dispatch(*d);
      co_return;
    }
    log::Info("probe_failed").kv("domain", domain).kv("reason", pr.error).kv("backlog", d->ready.size());
  }
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

}  // namespace sw::queue
