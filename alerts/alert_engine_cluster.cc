// Owns the alert engine's cluster mode (CLUSTER.md "Shared domain health"): the first node
// whose grace expires opens the domain's shared outage with its `down` event (one per
// cluster), the others join it; the first node that delivers to the domain again closes it and
// sends the one `up`; every node polls the open outages each cluster.health_poll and probes at
// once the domains whose outage another node closed. Runs on the engine's thread.
// Fails soft: a store error is logged and the step retried on the next timer or delivery.
#include <algorithm>
#include <chrono>

#include "alerts/alert_engine.h"
#include "common/log.h"

namespace sw::alerts {

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A node writes its successes at most this often per domain: often enough that a success
// within the last grace is seen by the others, rarely enough not to load the database.
int64_t HealthEvery(const config::Config& cfg) {
  return std::clamp<int64_t>(cfg.alerts.grace.count() / 4, 1000, 60000);
}

}  // namespace

void AlertEngine::EnableCluster(std::function<void(const std::string&)> probe_now) {
  shared_ = std::make_unique<SharedOutages>(store_, node_);
  probe_now_ = std::move(probe_now);
}

// Cluster mode keeps each node's own view apart ("s/<node>/<domain>"): the shared outage is
// "outage/<domain>".
std::string AlertEngine::StateKeyOf(const std::string& domain) const {
  return shared_ ? "s/" + node_ + "/" + domain : StateKey(domain);
}

// The grace of this node's view expired: opens the cluster's outage (with the `down` event)
// unless one is open (joined), another node delivered within the grace, or the last recovery
// is younger than the grace (flap damping). True when the domain's outage is alerted now.
bool AlertEngine::OpenShared(const std::string& domain, Tracked& t, int64_t now) {
  auto cfg = Config();
  const int64_t grace = cfg->alerts.grace.count();
  const int64_t retry = cfg->cluster.health_poll.count();
  SharedOutage o;
  Status st = shared_->Get(domain, &o);
  if (st.ok()) {
    JoinShared(domain, t, o);
    return true;
  }
  int64_t ok_ms = 0;
  if (st.code() == Status::Code::kNotFound) st = shared_->OthersLastOk(domain, &ok_ms);
  if (!st.ok()) {
    log::Error("outage_store_failed").kv("domain", domain).kv("detail", st.message());
    Arm(domain, now + retry);
    return false;
  }
  int64_t last_up = shared_->LastRecovery(domain);
  if (ok_ms >= now - grace || (last_up != 0 && now < last_up + grace)) {
    int64_t until = std::max(ok_ms, last_up) + grace;
    log::Info("outage_deferred").kv("domain", domain).kv("other_ok_ms", ok_ms).kv("until", until);
    Arm(domain, std::max(until, now + retry));
    return false;
  }
  AlertEvent e;
  e.kind = AlertKind::kDown;
  e.domain = domain;
  e.since_ms = t.s.down_since_ms;
  e.id = EventId(domain, e.since_ms, e.kind, 0);
  control::ChangeSet cs;
  std::vector<std::pair<std::string, OutboxItem>> items;
  Prepare(e, &t, "", std::nullopt, &cs, &items);
  SharedOutage mine{t.s.down_since_ms, e.at_ms, node_, t.s.error};
  bool applied = false;
  st = shared_->Open(domain, mine, std::move(cs), &applied);
  if (!st.ok()) {
    log::Error("alert_write_failed").kv("event", e.id).kv("detail", st.message());
    Arm(domain, now + 10000);
    return false;
  }
  if (!applied) {  // another node was first
    if (shared_->Get(domain, &o).ok()) {
      JoinShared(domain, t, o);
      return true;
    }
    Arm(domain, now + retry);
    return false;
  }
  Made(e, true, items);
  open_[domain] = mine;
  log::Info("outage_opened").kv("domain", domain).kv("since_ms", mine.since_ms).kv("node", node_);
  t.s.down_sent = true;
  t.s.down_event_ms = mine.down_event_ms;
  SaveState(domain, t, {});
  return true;
}

// This node's view takes the cluster's outage: its events (still_down, up) carry its name.
void AlertEngine::JoinShared(const std::string& domain, Tracked& t, const SharedOutage& o) {
  if (t.s.down_since_ms != o.since_ms || !t.s.down_sent) t.s.still_down_sent = 0;
  t.s.down_since_ms = o.since_ms;
  t.s.down_sent = true;
  t.s.down_event_ms = o.down_event_ms;
  open_[domain] = o;
  log::Info("outage_joined")
      .kv("domain", domain)
      .kv("since_ms", o.since_ms)
      .kv("opened_by", o.opened_by)
      .kv("node", node_);
  SaveState(domain, t, {});
}

// OnUp in cluster mode, before the single-node rules: a delivery ("" or "flush": no delivery,
// nothing closed) closes the open outage; the closer's view takes it and sends the `up`, any
// other view of it ends without one.
void AlertEngine::RecoverShared(const std::string& domain, Tracked& t, int64_t at_ms,
                                const std::string& relay) {
  auto cfg = Config();
  const bool delivered = !relay.empty() && relay != "flush";
  if (delivered) shared_->NoteOk(domain, at_ms, HealthEvery(*cfg));
  auto it = open_.find(domain);
  if (it == open_.end() || !delivered) {
    t.s.down_sent = false;  // no shared outage to recover from here: no `up`
    return;
  }
  SharedOutage o = it->second;
  bool applied = false;
  Status st = shared_->Close(domain, o.since_ms, at_ms, &applied);
  if (!st.ok()) {  // stays in open_: the next delivery tries again
    log::Error("outage_store_failed").kv("domain", domain).kv("detail", st.message());
    t.s.down_sent = false;
    return;
  }
  open_.erase(it);
  log::Info(applied ? "outage_closed" : "outage_already_closed")
      .kv("domain", domain)
      .kv("since_ms", o.since_ms)
      .kv("relay", relay)
      .kv("node", node_);
  if (!applied) {
    t.s.down_sent = false;
    return;
  }
  if (t.s.down_since_ms != o.since_ms) t.s.still_down_sent = 0;
  t.s.down_since_ms = o.since_ms;
  t.s.down_sent = true;
  t.s.down_event_ms = o.down_event_ms;
}

// Any delivery counts as this node's success; one to a domain the cluster holds down ends
// that outage (this node's queue never saw it down, or recovered without a transition).
void AlertEngine::DeliveredShared(const std::string& domain, uint64_t remaining) {
  int64_t now = NowMs();
  shared_->NoteOk(domain, now, HealthEvery(*Config()));
  if (!open_.count(domain)) return;
  auto it = tracked_.find(domain);
  if (it != tracked_.end() && (it->second->queue_down || it->second->up_pending)) return;
  OnUp(domain, now, "delivery", queue::Backlog{remaining, 0});
}

// Another node closed the outage this node knew open: its view of it ends without an `up`,
// and a queue still holding the domain down probes it now instead of at its probe_interval.
void AlertEngine::ClosedElsewhere(const std::string& domain, const SharedOutage& o) {
  auto it = tracked_.find(domain);
  bool queue_down = it != tracked_.end() && it->second->queue_down;
  log::Info("outage_closed_elsewhere")
      .kv("domain", domain)
      .kv("since_ms", o.since_ms)
      .kv("probe", queue_down ? "now" : "none")
      .kv("node", node_);
  if (it == tracked_.end()) return;
  Tracked& t = *it->second;
  if (t.s.down_sent && t.s.down_since_ms == o.since_ms && !t.up_pending) {
    int64_t now = NowMs();
    t.timer->cancel();
    t.s.down_sent = false;
    t.s.still_down_sent = 0;
    t.s.last_up_ms = now;
    t.s.down_since_ms = t.queue_down ? now : 0;  // a view still down starts its grace again
    SaveState(domain, t, {});
  }
  if (!queue_down) return Untrack(domain);
  if (probe_now_) probe_now_(domain);
  Evaluate(domain);
}

// After the queue's Load: an outage this node alerted or joined before it stopped, and that
// the cluster closed meanwhile, ends here as if closed while running (no `up`, a probe now).
void AlertEngine::ReconcileShared() {
  if (health_failing_) return;  // open_ unknown: the views stay as they are
  std::vector<std::pair<std::string, SharedOutage>> ended;
  for (const auto& [domain, t] : tracked_) {
    if (!t->s.down_sent || t->up_pending) continue;
    auto it = open_.find(domain);
    if (it == open_.end() || it->second.since_ms != t->s.down_since_ms)
      ended.push_back({domain, SharedOutage{t->s.down_since_ms, t->s.down_event_ms, "", ""}});
  }
  for (const auto& [domain, o] : ended) ClosedElsewhere(domain, o);
}

void AlertEngine::ArmHealthPoll() {
  health_timer_.expires_after(Config()->cluster.health_poll);
  health_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) PollHealth();
  });
}

// Writes this node's successes, reads the open outages, and acts on those that ended.
void AlertEngine::PollHealth() {
  Status st = shared_->FlushHealth();
  std::map<std::string, SharedOutage> now_open;
  if (st.ok()) st = shared_->LoadOpen(&now_open);
  if (!st.ok()) {
    if (!health_failing_) log::Warn("outage_poll_failed").kv("detail", st.message());
    health_failing_ = true;
    return ArmHealthPoll();
  }
  health_failing_ = false;
  std::map<std::string, SharedOutage> before = std::move(open_);
  open_ = std::move(now_open);
  for (const auto& [domain, o] : before) {
    auto it = open_.find(domain);
    if (it == open_.end() || it->second.since_ms != o.since_ms) ClosedElsewhere(domain, o);
  }
  ArmHealthPoll();
}

}  // namespace sw::alerts
