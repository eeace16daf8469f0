// Owns the relay queue's operator side: key-paged listing, summaries, actions, range actions.
// Fails by Status: unknown ID -> kNotFound, message being delivered -> kUnavailable (409).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"
#include "queue/relay_queue.h"
#include "queue/store_await.h"

namespace sw::queue {

namespace asio = boost::asio;

namespace {

constexpr size_t kBulkBatch = 2000;  // messages per group-committed write of a domain action
constexpr auto kBulkPoll = std::chrono::milliseconds(2);

const char* ActionName(QueueAction a) {
  switch (a) {
    case QueueAction::kFlush:
      return "flushed";
    case QueueAction::kHold:
      return "held";
    case QueueAction::kRelease:
      return "released";
    case QueueAction::kDelete:
      return "deleted";
    case QueueAction::kBounce:
      return "bounced";
  }
  return "";
}

}  // namespace

asio::awaitable<std::vector<Envelope>> RelayQueue::List(std::string domain, size_t limit,
                                                        std::string after) {
  ReadScope scope(this);
  EnvelopePage page = co_await AwaitPage([&](QueueStore::EnvelopesDone done) {
    if (domain.empty())
      store_.ReadQueue(after, limit, std::move(done));
    else
      store_.ReadDomain(domain, after, limit, std::move(done));
  });
  std::vector<Envelope> out;
  for (auto& env : page.envs) {
    if (gone_.count(env.id)) continue;
    auto it = messages_.find(env.id);
    out.push_back(it != messages_.end() ? it->second.env : std::move(env));
  }
  co_return out;
}

asio::awaitable<std::optional<Envelope>> RelayQueue::Find(std::string id) {
  if (auto it = messages_.find(id); it != messages_.end()) co_return it->second.env;
  ReadScope scope(this);
  EnvelopePage page = co_await AwaitPage(
      [&](QueueStore::EnvelopesDone done) { store_.ReadEnvelope(id, std::move(done)); });
  if (auto it = messages_.find(id); it != messages_.end()) co_return it->second.env;
  if (page.envs.empty() || gone_.count(id)) co_return std::nullopt;
  co_return std::move(page.envs.front());
}

std::vector<DomainSummary> RelayQueue::Summary() const {
  std::map<std::string, DomainSummary> by;
  // Config-file domains are listed even when empty; provisioned ones (possibly 100,000s)
  // only once they have mail or delivery state, so the summary stays bounded by activity.
  for (const auto& [name, dc] : config_->domains)
    if (dc.source == config::DomainSource::kConfig) by[name].domain = name;
  for (const auto& [name, d] : domains_) {
    by[name].domain = name;
    by[name].up = d.up;
  }
  static constexpr int64_t kEdges[] = {5 * 60000LL, 3600000LL, 4 * 3600000LL, 86400000LL,
                                       7 * 86400000LL};
  int64_t now = NowMs();
  // Each cell counts at the age of its oldest message: exact to kCountBucketMs.
  store_.VisitCounts([&](const std::map<std::string, DomainCounts>& all) {
    for (const auto& [name, c] : all) {
      if (name == kTotalsDomain || c.total.messages <= 0) continue;
      DomainSummary& s = by[name];
      s.domain = name;
      s.messages = static_cast<uint64_t>(c.total.messages);
      s.bytes = static_cast<uint64_t>(std::max<int64_t>(0, c.total.bytes));
      s.held = static_cast<uint64_t>(std::max<int64_t>(0, c.total.held));
      s.oldest_arrival_ms = c.total.min_arrival_ms;
      for (const auto& [bucket, cell] : c.buckets) {
        int64_t age = now - std::max(bucket, cell.min_arrival_ms);
        int b = 0;
        while (b < 5 && age >= kEdges[b]) ++b;
        s.age_buckets[b] += static_cast<uint64_t>(std::max<int64_t>(0, cell.messages));
      }
    }
  });
  std::vector<DomainSummary> out;
  for (auto& [n, s] : by) out.push_back(std::move(s));
  return out;
}

QueueTotals RelayQueue::Totals() const {
  QueueTotals t;
  store_.VisitCounts([&](const std::map<std::string, DomainCounts>& all) {
    if (auto it = all.find(kTotalsDomain); it != all.end()) {
      t.messages = static_cast<uint64_t>(std::max<int64_t>(0, it->second.total.messages));
      t.bytes = static_cast<uint64_t>(std::max<int64_t>(0, it->second.total.bytes));
      t.held = static_cast<uint64_t>(std::max<int64_t>(0, it->second.total.held));
      t.oldest_arrival_ms = it->second.total.min_arrival_ms;
    }
  });
  for (const auto& [name, d] : domains_)
    if (!d.up) ++t.domains_down;
  return t;
}

asio::awaitable<std::tuple<Status, std::shared_ptr<const std::string>>> RelayQueue::Body(
    const std::string& id) {
  auto it = messages_.find(id);
  if (it != messages_.end() && it->second.body)
    co_return std::make_tuple(Status::Ok(), it->second.body);
  co_return co_await AwaitBody(store_, id);
}

asio::awaitable<Status> RelayQueue::Act(const std::string& id, QueueAction action) {
  Entry* found = co_await FetchById(id);
  if (!found) co_return Status(Status::Code::kNotFound, "no such message");
  Entry& e = *found;
  Status st = Status::Ok();
  switch (action) {
    case QueueAction::kHold: {
      if (e.env.held) break;
      e.env.held = true;
      Unschedule(e.env);
      Envelope copy = e.env;
      st = co_await AwaitStore([&](QueueStore::Done d) { store_.Update(copy, true, d); });
      log::Info("held").kv("id", id);
      break;
    }
    case QueueAction::kRelease: {
      if (!e.env.held) break;
      e.env.held = false;
      e.env.next_attempt_ms = 0;
      Envelope copy = e.env;
      st = co_await AwaitStore([&](QueueStore::Done d) { store_.Update(copy, true, d); });
      log::Info("released").kv("id", id);
      // Back into the windows (it may have left memory during the write: read it again).
      if (!messages_.count(id) && !co_await FetchById(id)) co_return st;
      ScheduleAllPending(id, 0);
      break;
    }
    case QueueAction::kFlush: {
      if (e.env.held) co_return Status(Status::Code::kUnavailable, "message is held");
      e.env.next_attempt_ms = 0;
      // Due now on disk too (its next-attempt keys go): a window read takes it at once.
      store_.Update(e.env, false, nullptr);
      // A flush is an operator's "try now": domains marked down are tried too.
      for (const auto& r : e.env.recipients)
        if (r.state == RcptState::kPending)
          if (DomainState* d = Domain(r.domain); d && !d->up) MarkUp(*d, "flush");
      log::Info("flushed").kv("id", id);
      ScheduleAllPending(id, 0);
      break;
    }
    case QueueAction::kDelete: {
      if (e.inflight > 0)
        co_return Status(Status::Code::kUnavailable, "message is being delivered");
      log::Info("deleted").kv("id", id).kv("from", e.env.sender);
      Finish(id);
      co_return Status::Ok();
    }
    case QueueAction::kBounce: {
      if (e.inflight > 0)
        co_return Status(Status::Code::kUnavailable, "message is being delivered");
      std::vector<size_t> pending;
      for (size_t i = 0; i < e.env.recipients.size(); ++i)
        if (e.env.recipients[i].state == RcptState::kPending) pending.push_back(i);
      log::Info("bounced").kv("id", id).kv("reason", "operator bounce").kv("nrcpt", pending.size());
      FailRecipients(id, pending, "5.0.0", "550 5.0.0 message returned by the operator");
      co_return Status::Ok();
    }
  }
  MaybeEvict(id);
  co_return st;
}

// One batch of a domain action: memory entries change in place (later writes carry the
// change), every record is patched on disk in one group-committed write.
asio::awaitable<size_t> RelayQueue::ActOnBatch(const std::string& domain, QueueAction action,
                                               std::vector<Envelope>& envs) {
  if (action == QueueAction::kDelete || action == QueueAction::kBounce)
    co_return co_await RemoveBatch(domain, action, envs);
  std::vector<QueueStore::Patch> patches;
  for (auto& disk : envs) {
    if (gone_.count(disk.id)) continue;
    auto it = messages_.find(disk.id);
    Envelope& v = it != messages_.end() ? it->second.env : disk;
    QueueStore::Patch p;
    p.id = v.id;
    if (action == QueueAction::kHold && !v.held) {
      v.held = true;
      p.held = 1;
      if (it != messages_.end()) Unschedule(v);
    } else if (action == QueueAction::kRelease && v.held) {
      v.held = false;
      v.next_attempt_ms = 0;
      p.held = 0;
      p.clear_next_attempt = true;
    } else if (action == QueueAction::kFlush && !v.held) {
      v.next_attempt_ms = 0;
      p.clear_next_attempt = true;
      if (it != messages_.end()) Schedule(v.id, domain, 0);
    } else {
      continue;
    }
    log::Info(ActionName(action)).kv("id", v.id).kv("domain", domain);
    patches.push_back(std::move(p));
  }
  size_t n = patches.size();
  if (n == 0) co_return 0;
  Status st = co_await AwaitStore([&](QueueStore::Done d) {
    store_.PatchMany(std::move(patches), action != QueueAction::kFlush, d);
  });
  if (!st.ok()) {
    log::Error("domain_action_failed").kv("domain", domain).kv("reason", st.message());
    co_return 0;
  }
  co_return n;
}

// Delete: one unsynced group-committed removal of the batch (as a single delete). Bounce: each
// message's DSN is queued as for a single bounce; the next batch waits for room.
asio::awaitable<size_t> RelayQueue::RemoveBatch(const std::string& domain, QueueAction action,
                                                std::vector<Envelope>& envs) {
  std::vector<std::string> removed;
  size_t n = 0;
  for (auto& disk : envs) {
    Entry* e = Fetch(std::move(disk));
    if (!e || e->inflight > 0) continue;  // being delivered: as for one message, not now
    std::string id = e->env.id;
    ++n;
    if (action == QueueAction::kDelete) {
      log::Info("deleted").kv("id", id).kv("from", e->env.sender).kv("domain", domain);
      Unschedule(e->env);
      DropBody(*e);
      messages_.erase(id);
      if (reads_ > 0) gone_.insert(id);
      removed.push_back(id);
      continue;
    }
    std::vector<size_t> pending;
    for (size_t i = 0; i < e->env.recipients.size(); ++i)
      if (e->env.recipients[i].state == RcptState::kPending) pending.push_back(i);
    log::Info("bounced").kv("id", id).kv("reason", "operator bounce").kv("nrcpt", pending.size());
    Unschedule(e->env);
    FailRecipients(id, pending, "5.0.0", "550 5.0.0 message returned by the operator");
  }
  if (!removed.empty()) {
    Status st = co_await AwaitStore(
        [&](QueueStore::Done d) { store_.RemoveMany(std::move(removed), false, d); });
    if (!st.ok())
      log::Error("domain_action_failed").kv("domain", domain).kv("reason", st.message());
    WakeStarved();
  }
  while (action == QueueAction::kBounce && !HasRoom() && !stopped_) {  // DSNs being queued
    asio::steady_timer t(io_, kBulkPoll);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return n;
}

asio::awaitable<size_t> RelayQueue::ActOnDomain(const std::string& domain, QueueAction action) {
  DomainState* d = Domain(domain);
  if (!d) co_return 0;
  if (action == QueueAction::kFlush && !d->up) MarkUp(*d, "flush");
  // One action at a time per domain, and no window read in between: a read's older copy
  // would undo what the action changed.
  while (d->bulk || d->refilling) {
    asio::steady_timer t(io_, kBulkPoll);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    d = Domain(domain);
  }
  d->bulk = true;
  size_t n = 0, batches = 0;  // batches: group-committed writes (at most one per read)
  std::string after;
  int64_t started = NowMs();
  for (bool end = false; !end && !stopped_;) {
    ReadScope scope(this);
    EnvelopePage page = co_await AwaitPage([&](QueueStore::EnvelopesDone done) {
      store_.ReadDomain(domain, after, kBulkBatch, std::move(done));
    });
    if (!page.status.ok()) {
      log::Error("domain_action_failed").kv("domain", domain).kv("reason", page.status.message());
      break;
    }
    n += co_await ActOnBatch(domain, action, page.envs);
    ++batches;
    after = page.last;
    end = page.end || page.envs.empty();
  }
  d = Domain(domain);
  d->bulk = false;
  // The window restarts at the domain's oldest message (released ones take their place).
  d->cursor.clear();
  d->on_disk = true;
  ++d->window_gen;
  log::Info("domain_action")
      .kv("domain", domain)
      .kv("action", ActionName(action))
      .kv("messages", n)
      .kv("batches", batches)
      .kv("ms", NowMs() - started);
  Dispatch(*d);
  co_return n;
}

}  // namespace sw::queue
