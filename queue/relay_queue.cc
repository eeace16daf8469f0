// Owns the relay queue's scheduling: accepted messages into the per-domain windows, ready
// sets, retry timers, domain up/down with probes. Fails soft: errors defer mail.
#include "queue/relay_queue.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "common/log.h"
#include "common/metrics.h"
#include "queue/dsn.h"
#include "queue/relay_queue_text.h"
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
      wake_(io),
      sweep_(io),
      evict_(io),
      retry_(io) {}

RelayQueue::~RelayQueue() {
  Stop();
  *alive_ = false;
}

void RelayQueue::Stop() {
  if (stopped_) return;
  stopped_ = true;
  store_.CancelRepair();  // its callback posts to io_, which may go with this queue
  wake_.cancel();
  sweep_.cancel();
  evict_.cancel();
  retry_.cancel();
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

asio::awaitable<Status> RelayQueue::Accept(Envelope env, std::shared_ptr<const std::string> body,
                                           std::string* id) {
  if (env.id.empty()) env.id = ids_.Next();
  *id = env.id;
  env.size = body->size();
  Status st = co_await AwaitStore(
      [&](QueueStore::Done done) { store_.Enqueue(env, body, std::move(done)); });
  if (!st.ok()) co_return st;
  ++stats_.accepted;
  // Only windows with room take it into memory; elsewhere it waits on disk for its turn (a
  // domain that is down or has a backlog would otherwise pin every queued message in RAM).
  std::vector<DomainState*> take;
  bool keep = false, imminent = true;
  for (const auto& name : PendingDomains(env)) {
    DomainState* d = Domain(name);
    if (!d) {
      keep = true;  // Schedule retries it (no route)
      continue;
    }
    if (d->up && !d->on_disk && !d->refilling && !d->bulk && d->ready.size() < WindowSize() &&
        HasRoom()) {
      take.push_back(d);
    } else {
      d->on_disk = true;
      d->appended = true;
    }
    if (!d->up || d->on_disk || d->ready.size() > kHotBacklog) imminent = false;
  }
  if (take.empty() && !keep) co_return st;
  std::string qid = env.id;
  Entry& e = messages_[qid];
  e.env = std::move(env);
  if (imminent) CacheBody(e, std::move(body));
  if (keep) Schedule(qid, "", 0);
  for (DomainState* d : take) {
    if (d->cursor < qid) d->cursor = qid;
    Schedule(qid, d->name, 0);
  }
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
    waiting_ids_.insert(id);
    ArmWake();
    return;
  }
  DomainState* d = Domain(domain);
  if (!d) {
    log::Warn("deferred").kv("id", id).kv("domain", domain).kv("reason", "no route to domain");
    waiting_.emplace(NowMs() + config_->queue.retry_interval.count(), std::make_pair(id, domain));
    waiting_ids_.insert(id);
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
  if (d.ready.size() <= WindowSize() / 2) Refill(d);
}

void RelayQueue::MarkDown(DomainState& d, const std::string& id, const std::string& reason) {
  if (!d.up) return;
  d.up = false;
  if (!d.external) store_.PutMetaAsync("domain/" + d.name, "down", nullptr);
  DropWindow(d);  // its messages wait on disk for the probe
  log::Warn("domain_down").kv("domain", d.name).kv("id", id).kv("reason", reason);
  if (observer_ && !d.external) observer_->DomainDown(d.name, NowMs(), reason, BacklogOf(d), false);
  asio::co_spawn(io_, ProbeLoop(d.name, ++d.probe_gen), asio::detached);
}

void RelayQueue::MarkUp(DomainState& d, const std::string& relay) {
  if (d.up) return;
  d.up = true;
  ++d.probe_gen;  // the running probe loop, if any, ends at its next step
  d.probe_timer->cancel();
  if (!d.external) store_.PutMetaAsync("domain/" + d.name, "up", nullptr);
  log::Info("domain_up")
      .kv("domain", d.name)
      .kv("relay", relay)
      .kv("backlog", BacklogOf(d).messages);
  if (observer_ && !d.external) observer_->DomainUp(d.name, NowMs(), relay, BacklogOf(d));
}

// From memory while the whole backlog is in the window, else from the store's counters.
Backlog RelayQueue::BacklogOf(const DomainState& d) const {
  Backlog b;
  if (d.on_disk) {
    store_.VisitCounts([&](const std::map<std::string, DomainCounts>& all) {
      if (auto it = all.find(d.name); it != all.end()) {
        b.messages = static_cast<uint64_t>(std::max<int64_t>(0, it->second.total.messages));
        b.oldest_arrival_ms = it->second.total.min_arrival_ms;
      }
    });
    return b;
  }
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
        .kv("backlog", BacklogOf(*d).messages);
    if (observer_ && !d->external) observer_->ProbeFailed(domain, pr.error, BacklogOf(*d));
  }
}

void RelayQueue::ProbeNow(const std::string& domain) {
  auto it = domains_.find(domain);
  if (stopped_ || it == domains_.end() || it->second.up || it->second.external) return;
  DomainState& d = it->second;
  d.probe_timer->cancel();
  log::Info("probe_now").kv("domain", domain).kv("backlog", BacklogOf(d).messages);
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
    if (auto w = waiting_ids_.find(due.back().first); w != waiting_ids_.end())
      waiting_ids_.erase(w);
  }
  for (auto& [id, dom] : due) {
    auto it = messages_.find(id);
    if (it == messages_.end() || it->second.env.held) continue;
    DomainState* d = domains_.count(dom) ? Domain(dom) : nullptr;
    if (d && !d->up) {  // waits on disk for the probe
      MaybeEvict(id);
      continue;
    }
    Schedule(id, dom, 0);
  }
  ArmWake();
}

}  // namespace sw::queue
