// Owns the relay queue's active set: constant-time startup, per-domain windows, the sweep.
// Fails soft: a failed read is retried, mail stays on disk.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"
#include "queue/relay_queue.h"
#include "queue/relay_queue_text.h"
#include "queue/store_await.h"

namespace sw::queue {

namespace asio = boost::asio;

namespace {

constexpr size_t kSweepBatch = 2000;  // records the expiry sweep reads per step
constexpr auto kRefillRetry = std::chrono::seconds(1);

}  // namespace

Status RelayQueue::Load() {
  int64_t now = NowMs();
  ids_.Observe(store_.LastId());
  // Domain state survives restarts: a domain that was down stays down until a probe.
  Status st = store_.ScanMeta("domain/", [&](const std::string& key, const std::string& value) {
    std::string name = key.substr(7);
    if (value != "down" || !config_->domains.count(name)) return;
    DomainState* d = Domain(name);
    d->up = false;
    asio::co_spawn(io_, ProbeLoop(name, ++d->probe_gen), asio::detached);
  });
  int64_t messages = 0, held = 0;
  std::vector<std::string> names;
  store_.VisitCounts([&](const std::map<std::string, DomainCounts>& all) {
    for (const auto& [name, c] : all) {
      if (name == kTotalsDomain) {
        messages = c.total.messages;
        held = c.total.held;
      } else if (c.total.messages > 0) {
        names.push_back(name);
      }
    }
  });
  // Every domain with mail starts with its window on disk: up ones read it now, down ones
  // after their first good probe.
  for (const auto& name : names) {
    DomainState* d = Domain(name);
    if (!d) continue;
    d->on_disk = true;
    Refill(*d);
  }
  if (observer_)
    for (const auto& [name, d] : domains_)
      if (!d.up && !d.external) observer_->DomainDown(name, now, "", BacklogOf(d), true);
  ArmSweep();
  ArmEvict();
  ArmRetry(now);  // deferred messages due while the node was stopped go first, in due order
  // Counters that drifted (an unsynced removal lost) are recounted in the background.
  store_.RepairCounts([this, alive = alive_](std::vector<std::string> repaired) {
    asio::post(io_, [this, alive, repaired = std::move(repaired)] {
      if (*alive) OnCountsRepaired(repaired);
    });
  });
  log::Info("queue_loaded")
      .kv("messages", messages)
      .kv("held", held)
      .kv("domains", names.size())
      .kv("envelopes_read", 0);
  return st;
}

size_t RelayQueue::size() const {
  int64_t n = 0;
  store_.VisitCounts([&](const std::map<std::string, DomainCounts>& all) {
    if (auto it = all.find(kTotalsDomain); it != all.end()) n = it->second.total.messages;
  });
  return static_cast<size_t>(std::max<int64_t>(0, n));
}

uint32_t RelayQueue::WindowSize() const {
  return std::max<uint32_t>(1, config_->queue.active_window_per_domain);
}

bool RelayQueue::HasRoom() const { return messages_.size() < config_->queue.active_limit; }

void RelayQueue::Refill(DomainState& d) {
  if (stopped_ || !d.up || !d.on_disk || d.refilling || d.bulk) return;
  if (!HasRoom()) {
    if (std::find(starved_.begin(), starved_.end(), d.name) == starved_.end())
      starved_.push_back(d.name);
    return;
  }
  d.refilling = true;
  d.appended = false;
  asio::co_spawn(io_, RefillLoop(d.name), asio::detached);
}

void RelayQueue::WakeStarved() {
  while (!starved_.empty() && HasRoom() && !stopped_) {
    std::string name = std::move(starved_.front());
    starved_.pop_front();
    if (auto it = domains_.find(name); it != domains_.end()) Refill(it->second);
  }
  if (retry_starved_ && HasRoom() && !stopped_) {
    retry_starved_ = false;
    ArmRetry(NowMs());
  }
}

// One window read: the next messages of the domain index after the cursor, taken into the
// window in arrival order; Dispatch asks for the next read when the window runs low.
asio::awaitable<void> RelayQueue::RefillLoop(std::string domain) {
  DomainState* d = Domain(domain);
  size_t room =
      config_->queue.active_limit - std::min<size_t>(messages_.size(), config_->queue.active_limit);
  size_t want = std::max<size_t>(
      1, std::min<size_t>(WindowSize() - std::min<size_t>(d->ready.size(), WindowSize()), room));
  std::string after = d->cursor;
  uint64_t gen = d->window_gen;
  ReadScope scope(this);
  EnvelopePage page = co_await AwaitPage([&](QueueStore::EnvelopesDone done) {
    store_.ReadDomain(domain, after, want, std::move(done));
  });
  d = Domain(domain);
  d->refilling = false;
  if (stopped_) co_return;
  if (!page.status.ok()) {
    log::Error("window_read_failed").kv("domain", domain).kv("reason", page.status.message());
    asio::steady_timer t(io_, kRefillRetry);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    d = Domain(domain);
    Refill(*d);
    co_return;
  }
  if (gen != d->window_gen || !d->up) {  // restarted or down meanwhile: this read is void
    Refill(*d);
    co_return;
  }
  int64_t now = NowMs();
  for (auto& env : page.envs) TakeIntoWindow(*d, std::move(env), now);
  if (!page.last.empty()) d->cursor = page.last;
  d->on_disk = !page.end || d->appended;
  Dispatch(*d);
}

void RelayQueue::TakeIntoWindow(DomainState& d, Envelope&& env, int64_t now) {
  Entry* e = Fetch(std::move(env));
  if (!e) return;
  std::string id = e->env.id;
  bool pending = false;
  for (const auto& r : e->env.recipients)
    if (r.domain == d.name && r.state == RcptState::kPending) pending = true;
  if (!pending || e->env.held) {
    MaybeEvict(id);
    return;
  }
  if (d.inflight.count(id) || waiting_ids_.count(id)) return;
  // A retry later than one probe away (a 4xx while the domain answers) is not taken: it
  // waits on disk, and the next-attempt index re-admits it when due (relay_queue_retry.cc).
  // What waited for a probe goes now.
  if (e->env.next_attempt_ms > now + config_->delivery.probe_interval.count()) {
    ArmRetry(e->env.next_attempt_ms);
    MaybeEvict(id);
    return;
  }
  d.ready.insert(id);
}

RelayQueue::Entry* RelayQueue::Fetch(Envelope&& env) {
  auto it = messages_.find(env.id);
  if (it != messages_.end()) return &it->second;  // memory is newer than any read
  if (gone_.count(env.id)) return nullptr;        // finished while the read ran
  std::string id = env.id;
  Entry& e = messages_[id];
  e.env = std::move(env);
  return &e;
}

asio::awaitable<RelayQueue::Entry*> RelayQueue::FetchById(const std::string& id) {
  if (auto it = messages_.find(id); it != messages_.end()) co_return &it->second;
  ReadScope scope(this);
  EnvelopePage page = co_await AwaitPage(
      [&](QueueStore::EnvelopesDone done) { store_.ReadEnvelope(id, std::move(done)); });
  if (page.envs.empty()) co_return nullptr;
  co_return Fetch(std::move(page.envs.front()));
}

// Leaves memory when nothing holds it here: not in flight, not waiting on a timer, in no
// window. Its state is on disk already (every change was written before).
void RelayQueue::MaybeEvict(const std::string& id) {
  auto it = messages_.find(id);
  if (it == messages_.end()) return;
  Entry& e = it->second;
  if (e.inflight > 0 || waiting_ids_.count(id)) return;
  for (const auto& r : e.env.recipients) {
    auto d = domains_.find(r.domain);
    if (d != domains_.end() && (d->second.ready.count(id) || d->second.inflight.count(id))) return;
  }
  if (reads_ > 0) {
    evict_later_.push_back(id);
    return;
  }
  DropBody(e);
  messages_.erase(it);
  WakeStarved();
}

void RelayQueue::EndRead() {
  if (--reads_ > 0) return;
  gone_.clear();
  std::vector<std::string> later;
  later.swap(evict_later_);
  for (const auto& id : later) MaybeEvict(id);
}

// A domain went down: its window goes back to disk and restarts at its oldest message.
void RelayQueue::DropWindow(DomainState& d) {
  std::vector<std::string> ids(d.ready.begin(), d.ready.end());
  d.ready.clear();
  d.cursor.clear();
  d.on_disk = true;
  ++d.window_gen;
  for (const auto& id : ids) MaybeEvict(id);
}

// Expiry and delay warnings for messages that are not being attempted (a down domain's
// backlog waits on disk for probes, so it is checked here rather than after attempts).
void RelayQueue::ArmSweep() {
  auto every = std::clamp<int64_t>(config_->queue.max_age.count() / 4, 500, 60000);
  if (config_->queue.delay_warning)
    every =
        std::min<int64_t>(every, std::max<int64_t>(500, config_->queue.delay_warning->count() / 4));
  if (!sweep_cursor_.empty()) every = 0;  // the old part of the queue is not read through yet
  sweep_.expires_after(std::chrono::milliseconds(every));
  sweep_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    asio::co_spawn(io_, Sweep(), asio::detached);
  });
}

asio::awaitable<void> RelayQueue::Sweep() {
  co_await SweepSome();
  if (!stopped_) ArmSweep();
}

// The queue's records in ID (= arrival) order from the sweep's cursor: only an old prefix
// can be due; the cursor restarts at the oldest once a young record is reached.
asio::awaitable<void> RelayQueue::SweepSome() {
  int64_t now = NowMs();
  int64_t horizon = config_->queue.max_age.count();
  if (config_->queue.delay_warning)
    horizon = std::min(horizon, config_->queue.delay_warning->count());
  std::string after = sweep_cursor_;
  ReadScope scope(this);
  EnvelopePage page = co_await AwaitPage([&](QueueStore::EnvelopesDone done) {
    store_.ReadQueue(after, kSweepBatch, std::move(done));
  });
  bool young = false;
  std::vector<std::string> expire, warn, seen;
  for (auto& env : page.envs) {
    if (now - env.arrival_ms < horizon) {
      young = true;
      break;
    }
    Entry* e = Fetch(std::move(env));
    if (!e) continue;
    seen.push_back(e->env.id);
    int64_t age = now - e->env.arrival_ms;
    if (e->env.held || e->inflight > 0 || !e->env.HasPending()) continue;
    if (age >= config_->queue.max_age.count()) {
      expire.push_back(e->env.id);
    } else if (config_->queue.delay_warning && !e->env.delay_warned && !e->env.sender.empty() &&
               !e->env.spam_tagged && age >= config_->queue.delay_warning->count()) {
      warn.push_back(e->env.id);
    }
  }
  sweep_cursor_ = (young || page.end || !page.status.ok()) ? "" : page.last;
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
    Unschedule(it->second.env);
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
        rcpts.push_back({r.address, detail::StatusOf(r.last_reply, false),
                         r.last_reply.empty() ? it->second.env.last_error : r.last_reply, ""});
    co_await SendDsn(id, std::move(rcpts), true);
  }
  for (const auto& id : seen) MaybeEvict(id);
}

}  // namespace sw::queue
