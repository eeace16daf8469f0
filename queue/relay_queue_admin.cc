// Owns the relay queue's operator side: listing, summaries and actions of the admin API.
// Fails by Status: unknown ID -> kNotFound, message being delivered -> kUnavailable (409).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "common/log.h"
#include "queue/relay_queue.h"
#include "queue/store_await.h"

namespace sw::queue {

namespace asio = boost::asio;

std::vector<Envelope> RelayQueue::List(const std::string& domain, size_t limit,
                                       const std::string& after) const {
  std::vector<Envelope> out;
  auto it = after.empty() ? messages_.begin() : messages_.upper_bound(after);
  for (; it != messages_.end() && out.size() < limit; ++it) {
    if (!domain.empty()) {
      bool match = false;
      for (const auto& r : it->second.env.recipients)
        if (r.domain == domain) match = true;
      if (!match) continue;
    }
    out.push_back(it->second.env);
  }
  return out;
}

const Envelope* RelayQueue::Find(const std::string& id) const {
  auto it = messages_.find(id);
  return it == messages_.end() ? nullptr : &it->second.env;
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
  for (const auto& [id, e] : messages_) {
    std::set<std::string> doms;
    for (const auto& r : e.env.recipients)
      if (r.state == RcptState::kPending) doms.insert(r.domain);
    for (const auto& dn : doms) {
      DomainSummary& s = by[dn];
      s.domain = dn;
      ++s.messages;
      s.bytes += e.env.size;
      if (e.env.held) ++s.held;
      if (s.oldest_arrival_ms == 0 || e.env.arrival_ms < s.oldest_arrival_ms)
        s.oldest_arrival_ms = e.env.arrival_ms;
      int64_t age = now - e.env.arrival_ms;
      int b = 0;
      while (b < 5 && age >= kEdges[b]) ++b;
      ++s.age_buckets[b];
    }
  }
  std::vector<DomainSummary> out;
  for (auto& [n, s] : by) out.push_back(std::move(s));
  return out;
}

QueueTotals RelayQueue::Totals() const {
  QueueTotals t;
  t.messages = messages_.size();
  for (const auto& [id, e] : messages_) {
    t.bytes += e.env.size;
    if (e.env.held) ++t.held;
    if (t.oldest_arrival_ms == 0 || e.env.arrival_ms < t.oldest_arrival_ms)
      t.oldest_arrival_ms = e.env.arrival_ms;
  }
  for (const auto& [name, d] : domains_)
    if (!d.up) ++t.domains_down;
  return t;
}

asio::awaitable<std::tuple<Status, std::shared_ptr<const std::string>>> RelayQueue::Body(
    const std::string& id) {
  auto it = messages_.find(id);
  if (it == messages_.end())
    co_return std::make_tuple(Status(Status::Code::kNotFound, "no such message"), nullptr);
  if (it->second.body) co_return std::make_tuple(Status::Ok(), it->second.body);
  co_return co_await AwaitBody(store_, id);
}

asio::awaitable<Status> RelayQueue::Act(const std::string& id, QueueAction action) {
  auto it = messages_.find(id);
  if (it == messages_.end()) co_return Status(Status::Code::kNotFound, "no such message");
  Entry& e = it->second;
  switch (action) {
    case QueueAction::kHold: {
      if (e.env.held) co_return Status::Ok();
      e.env.held = true;
      Unschedule(e.env);
      Envelope copy = e.env;
      Status st = co_await AwaitStore([&](QueueStore::Done d) { store_.Update(copy, true, d); });
      log::Info("held").kv("id", id);
      co_return st;
    }
    case QueueAction::kRelease: {
      if (!e.env.held) co_return Status::Ok();
      e.env.held = false;
      e.env.next_attempt_ms = 0;
      Envelope copy = e.env;
      Status st = co_await AwaitStore([&](QueueStore::Done d) { store_.Update(copy, true, d); });
      log::Info("released").kv("id", id);
      ScheduleAllPending(id, 0);
      co_return st;
    }
    case QueueAction::kFlush: {
      if (e.env.held) co_return Status(Status::Code::kUnavailable, "message is held");
      e.env.next_attempt_ms = 0;
      // A flush is an operator's "try now": domains marked down are tried too.
      for (const auto& r : e.env.recipients)
        if (r.state == RcptState::kPending)
          if (DomainState* d = Domain(r.domain); d && !d->up) MarkUp(*d, "flush");
      log::Info("flushed").kv("id", id);
      ScheduleAllPending(id, 0);
      co_return Status::Ok();
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
  co_return Status(Status::Code::kInvalid, "unknown action");
}

asio::awaitable<size_t> RelayQueue::ActOnDomain(const std::string& domain, QueueAction action) {
  std::vector<std::string> ids;
  for (const auto& [id, e] : messages_)
    for (const auto& r : e.env.recipients)
      if (r.domain == domain && r.state == RcptState::kPending) {
        ids.push_back(id);
        break;
      }
  if (action == QueueAction::kFlush) {
    if (DomainState* d = Domain(domain); d && !d->up) MarkUp(*d, "flush");
  }
  size_t n = 0;
  for (const auto& id : ids) {
    Status st = co_await Act(id, action);
    if (st.ok()) ++n;
  }
  co_return n;
}

}  // namespace sw::queue
