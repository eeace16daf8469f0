// Owns the alert engine's outage state machine and its outbox. Every method below the
// QueueObserver entry points runs on the engine's own thread.
// Fails soft: store errors are logged and retried by the next timer; channels retry.
#include "alerts/alert_engine.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <sstream>

#include "alerts/alert_message.h"
#include "alerts/usage_recorder.h"
#include "common/log.h"

namespace sw::alerts {

namespace asio = boost::asio;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Subscribed(const control::Contact& c, AlertKind k) {
  if (k == AlertKind::kTest) return true;
  for (const auto& e : c.events)
    if (e == KindName(k)) return true;
  return false;
}

std::string ReadSecret(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

AlertEngine::AlertEngine(control::ControlStore& store, usage::UsageCounters& counters,
                         EnqueueFn enqueue, std::string node)
    : store_(store),
      counters_(counters),
      enqueue_(std::move(enqueue)),
      node_(std::move(node)),
      mailbox_(std::make_shared<Mailbox>()),
      outbox_timer_(io_),
      usage_timer_(io_),
      usage_(std::make_unique<UsageRecorder>(store, node_)),
      http_(8),
      health_timer_(io_) {
  // Per reseller, not per domain: Prometheus cardinality stays bounded.
  down_gauge_ = metrics::Global().AddCallback(
      "spamweeder_reseller_domains_down", "Customer domains down now, per reseller",
      metrics::Type::kGauge, [this] {
        std::lock_guard lock(mu_);
        std::vector<metrics::Sample> out;
        for (const auto& [r, n] : down_per_reseller_)
          out.push_back({{{"reseller", r}}, static_cast<double>(n)});
        return out;
      });
}

AlertEngine::~AlertEngine() { Stop(); }

void AlertEngine::Post(std::function<void()> fn) {
  std::lock_guard lock(mailbox_->mu);
  if (mailbox_->io) asio::post(*mailbox_->io, std::move(fn));
}

std::shared_ptr<const config::Config> AlertEngine::Config() const {
  std::lock_guard lock(mu_);
  return config_;
}

std::shared_ptr<const control::TenantSnapshot> AlertEngine::Tenants() const {
  std::lock_guard lock(mu_);
  return tenants_;
}

void AlertEngine::SetConfig(std::shared_ptr<const config::Config> config) {
  std::string token = ReadSecret(config->alerts.sms.token_file);
  std::lock_guard lock(mu_);
  config_ = std::move(config);
  sms_token_ = token;
}

void AlertEngine::SetTenants(std::shared_ptr<const control::TenantSnapshot> tenants) {
  std::lock_guard lock(mu_);
  tenants_ = std::move(tenants);
}

Status AlertEngine::Start(std::shared_ptr<const config::Config> config,
                          std::shared_ptr<const control::TenantSnapshot> tenants) {
  SetConfig(std::move(config));
  SetTenants(std::move(tenants));
  const std::string state_prefix = StateKeyOf("");
  Status st = store_.ScanPrefix(state_prefix, [&](const std::string& key, const std::string& text) {
    auto t = std::make_unique<Tracked>();
    if (ParseState(text, &t->s) && t->s.down_since_ms != 0) {  // open outages only
      t->timer = std::make_unique<asio::steady_timer>(io_);
      std::string domain = key.substr(state_prefix.size());
      if (domain.find('/') == std::string::npos) tracked_[domain] = std::move(t);
    }
    return true;
  });
  if (!st.ok()) return st;
  if (shared_) {
    Status open = shared_->LoadOpen(&open_);  // fail soft: the first poll reads them again
    health_failing_ = !open.ok();
    if (!open.ok()) log::Warn("outage_poll_failed").kv("detail", open.message());
  }
  size_t pending = 0;
  st = store_.ScanPrefix("o/", [&](const std::string& key, const std::string& text) {
    OutboxItem item;
    if (ParseOutbox(text, &item)) {
      Schedule(key, item);
      ++pending;
    }
    return true;
  });
  if (!st.ok()) return st;
  log::Info("alerts_loaded").kv("outages", tracked_.size()).kv("outbox", pending);
  {
    std::lock_guard lock(mailbox_->mu);
    mailbox_->io = &io_;
  }
  work_.emplace(io_.get_executor());
  started_ = true;
  thread_ = std::thread([this] { io_.run(); });
  Post([this] {
    ArmOutbox();
    ArmUsage();
    if (shared_) PollHealth();
  });
  return Status::Ok();
}

void AlertEngine::Stop() {
  if (!started_) return;
  started_ = false;
  std::promise<void> flushed;
  Post([this, &flushed] {
    auto c = Config();
    auto t = Tenants();
    if (c && t) usage_->Flush(counters_.Drain(), *c, *t, NowMs());
    flushed.set_value();
  });
  flushed.get_future().wait();
  {
    std::lock_guard lock(mailbox_->mu);
    mailbox_->io = nullptr;
  }
  work_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
  http_.Stop();
}

// ---- QueueObserver (queue thread) ----------------------------------------------------------

void AlertEngine::DomainDown(const std::string& domain, int64_t at_ms, const std::string& error,
                             const queue::Backlog& backlog, bool restored) {
  Post([=, this] { OnDown(domain, at_ms, error, backlog, restored); });
}

void AlertEngine::DomainUp(const std::string& domain, int64_t at_ms, const std::string& relay,
                           const queue::Backlog& backlog) {
  Post([=, this] { OnUp(domain, at_ms, relay, backlog); });
}

void AlertEngine::ProbeFailed(const std::string& domain, const std::string& error,
                              const queue::Backlog& backlog) {
  Post([=, this] {
    Tracked& t = Track(domain);
    t.backlog = backlog;
    if (!error.empty()) t.s.error = error;
  });
}

void AlertEngine::Delivered(const std::string& domain, uint64_t, uint64_t remaining) {
  counters_.Add(domain, usage::Field::kDelivered);
  Post([=, this] {
    if (shared_) DeliveredShared(domain, remaining);
    auto it = tracked_.find(domain);
    if (it == tracked_.end() || !it->second->up_pending) return;
    ++it->second->delivered_since_up;
    if (remaining == 0) EmitUp(domain);
  });
}

void AlertEngine::Deferred(const std::string& domain) {
  counters_.Add(domain, usage::Field::kDeferred);
}

void AlertEngine::Reconcile() {
  Post([this] {
    int64_t now = NowMs();
    std::vector<std::string> ended;  // OnUp may untrack: no iterator kept across it
    for (const auto& [name, t] : tracked_)
      if (t->s.down_since_ms != 0 && !t->queue_down) ended.push_back(name);
    for (const auto& name : ended) OnUp(name, now, "", queue::Backlog{});
    if (shared_) ReconcileShared();
  });
}

// ---- Outage state machine -------------------------------------------------------------------

std::string AlertEngine::ResellerOfDomain(const std::string& domain) const {
  auto cfg = Config();
  auto tenants = Tenants();
  auto d = cfg->domains.find(domain);
  if (d == cfg->domains.end() || d->second.customer.empty()) return "-";
  auto c = tenants->customers.find(d->second.customer);
  return c == tenants->customers.end() || c->second.reseller.empty() ? "-" : c->second.reseller;
}

// The gauge follows each transition (O(1)); a reseller back at 0 keeps its series.
void AlertEngine::CountDown(const std::string& domain, bool down) {
  std::string reseller = ResellerOfDomain(domain);
  std::lock_guard lock(mu_);
  uint64_t& n = down_per_reseller_[reseller];
  if (down)
    ++n;
  else if (n > 0)
    --n;
}

// Domains are tracked while something is open about them (an outage, a pending `up`); their
// persisted state is read back when they come up again, so the map stays small.
AlertEngine::Tracked& AlertEngine::Track(const std::string& domain) {
  auto& p = tracked_[domain];
  if (!p) {
    p = std::make_unique<Tracked>();
    p->timer = std::make_unique<asio::steady_timer>(io_);
    std::string text;
    if (store_.Get(StateKeyOf(domain), &text).ok()) ParseState(text, &p->s);
  }
  return *p;
}

void AlertEngine::Untrack(const std::string& domain) {
  auto it = tracked_.find(domain);
  if (it == tracked_.end()) return;
  const Tracked& t = *it->second;
  if (t.queue_down || t.up_pending || t.s.down_since_ms != 0) return;
  it->second->timer->cancel();
  tracked_.erase(it);
}

bool AlertEngine::SaveState(const std::string& domain, Tracked& t, control::ChangeSet cs) {
  cs.puts.push_back({StateKeyOf(domain), StateJson(t.s)});
  Status st = store_.Commit(cs);
  if (!st.ok()) log::Error("alert_state_failed").kv("domain", domain).kv("detail", st.message());
  return st.ok();
}

// Closes the open status-history period and opens the next.
void AlertEngine::OpenPeriod(Tracked& t, const std::string& domain, const std::string& state,
                             int64_t from_ms, const std::string& detail, control::ChangeSet* cs) {
  if (t.s.period_state == state) return;
  if (t.s.period_from_ms != 0) {
    std::string text;
    StatusPeriod old;
    if (store_.Get(PeriodKey(domain, t.s.period_from_ms), &text).ok() && ParsePeriod(text, &old)) {
      old.until_ms = from_ms;
      cs->puts.push_back({PeriodKey(domain, old.from_ms), PeriodJson(old)});
    }
  }
  StatusPeriod p{domain, state, from_ms, 0, detail};
  cs->puts.push_back({PeriodKey(domain, from_ms), PeriodJson(p)});
  t.s.period_from_ms = from_ms;
  t.s.period_state = state;
}

void AlertEngine::OnDown(const std::string& domain, int64_t at_ms, const std::string& error,
                         const queue::Backlog& backlog, bool restored) {
  Tracked& t = Track(domain);
  if (!t.queue_down) CountDown(domain, true);
  t.queue_down = true;
  t.backlog = backlog;
  if (t.up_pending && shared_) {
    // The cluster's outage is closed already: its `up` goes out now, and this is a new one
    // (opened no sooner than alerts.grace after that close).
    EmitUp(domain);
  } else if (t.up_pending) {
    // Down again before the `up` went out: the same outage goes on (flap damping).
    t.up_pending = false;
    log::Info("alert_flap").kv("domain", domain);
  }
  if (!error.empty()) t.s.error = error;
  if (t.s.down_since_ms == 0) {
    t.s.down_since_ms = at_ms;
    t.s.down_sent = false;
    t.s.still_down_sent = 0;
    control::ChangeSet cs;
    OpenPeriod(t, domain, "down", at_ms, error, &cs);
    SaveState(domain, t, std::move(cs));
  } else if (!restored && t.s.period_state != "down") {
    control::ChangeSet cs;
    OpenPeriod(t, domain, "down", at_ms, error, &cs);
    SaveState(domain, t, std::move(cs));
  }
  Evaluate(domain);
}

void AlertEngine::OnUp(const std::string& domain, int64_t at_ms, const std::string& relay,
                       const queue::Backlog& backlog) {
  Tracked& t = Track(domain);
  if (t.queue_down) CountDown(domain, false);
  t.queue_down = false;
  t.backlog = backlog;
  control::ChangeSet cs;
  OpenPeriod(t, domain, "up", at_ms, relay, &cs);
  if (shared_) RecoverShared(domain, t, at_ms, relay);  // who sends the `up`, if anyone
  if (t.s.down_since_ms == 0) {
    SaveState(domain, t, std::move(cs));
    return Untrack(domain);
  }
  if (!t.s.down_sent) {
    // Shorter than the grace: no alert, the outage is over.
    t.s.down_since_ms = 0;
    t.timer->cancel();
    SaveState(domain, t, std::move(cs));
    return Untrack(domain);
  }
  SaveState(domain, t, std::move(cs));
  t.up_pending = true;
  t.up_at_ms = at_ms;
  t.delivered_since_up = 0;
  if (backlog.messages == 0) {
    EmitUp(domain);
    return;
  }
  Arm(domain, at_ms + Config()->alerts.up_wait.count());
}

// What is due for a domain now, and when to look again.
void AlertEngine::Evaluate(const std::string& domain) {
  auto it = tracked_.find(domain);
  if (it == tracked_.end()) return;
  Tracked& t = *it->second;
  auto cfg = Config();
  int64_t now = NowMs();
  if (t.up_pending) {
    if (now >= t.up_at_ms + cfg->alerts.up_wait.count())
      EmitUp(domain);
    else
      Arm(domain, t.up_at_ms + cfg->alerts.up_wait.count());
    return;
  }
  if (!t.queue_down || t.s.down_since_ms == 0) return;
  int64_t grace = cfg->alerts.grace.count();
  if (!t.s.down_sent) {
    int64_t due = std::max(t.s.down_since_ms + grace, t.s.last_up_ms ? t.s.last_up_ms + grace : 0);
    if (now < due) return Arm(domain, due);
    if (shared_) {
      if (!OpenShared(domain, t, now)) return;  // re-armed
      return Evaluate(domain);                  // still_down from the shared outage
    }
    AlertEvent e;
    e.kind = AlertKind::kDown;
    e.domain = domain;
    e.since_ms = t.s.down_since_ms;
    e.id = EventId(domain, e.since_ms, e.kind, 0);
    if (!Emit(std::move(e), &t, "", std::nullopt)) return Arm(domain, now + 10000);
    t.s.down_sent = true;
    t.s.down_event_ms = now;
    SaveState(domain, t, {});
  }
  int64_t next = t.s.down_event_ms + int64_t{t.s.still_down_sent + 1} * cfg->alerts.repeat.count();
  if (now < next) return Arm(domain, next);
  AlertEvent e;
  e.kind = AlertKind::kStillDown;
  e.domain = domain;
  e.since_ms = t.s.down_since_ms;
  e.repeat = t.s.still_down_sent + 1;
  e.id = EventId(domain, e.since_ms, e.kind, e.repeat);
  if (!Emit(std::move(e), &t, "", std::nullopt)) return Arm(domain, now + 10000);
  ++t.s.still_down_sent;
  SaveState(domain, t, {});
  Arm(domain, t.s.down_event_ms + int64_t{t.s.still_down_sent + 1} * cfg->alerts.repeat.count());
}

void AlertEngine::Arm(const std::string& domain, int64_t due_ms) {
  Tracked& t = Track(domain);
  t.timer->expires_after(std::chrono::milliseconds(std::max<int64_t>(0, due_ms - NowMs())));
  t.timer->async_wait([this, domain](const boost::system::error_code& ec) {
    if (!ec) Evaluate(domain);
  });
}

void AlertEngine::EmitUp(const std::string& domain) {
  Tracked& t = Track(domain);
  if (!t.up_pending) return;
  AlertEvent e;
  e.kind = AlertKind::kUp;
  e.domain = domain;
  e.since_ms = t.s.down_since_ms;
  e.outage_ms = t.up_at_ms - t.s.down_since_ms;
  e.delivered = t.delivered_since_up;
  e.id = EventId(domain, e.since_ms, e.kind, 0);
  if (!Emit(std::move(e), &t, "", std::nullopt)) return Arm(domain, NowMs() + 10000);
  t.up_pending = false;
  t.timer->cancel();
  t.s = DomainAlertState{0, false, 0, 0, NowMs(), "", t.s.period_from_ms, t.s.period_state};
  SaveState(domain, t, {});
  Untrack(domain);
}

// ---- Events ---------------------------------------------------------------------------------

void AlertEngine::AddDeliveries(AlertEvent& e, std::optional<size_t> only_contact) {
  auto tenants = Tenants();
  auto cfg = Config();
  auto cit = tenants->customers.find(e.customer);
  if (cit == tenants->customers.end()) return;
  e.reseller = cit->second.reseller;
  const auto& contacts = cit->second.contacts;
  for (size_t i = 0; i < contacts.size(); ++i) {
    if (only_contact && *only_contact != i) continue;
    const auto& c = contacts[i];
    if (!Subscribed(c, e.kind)) continue;
    auto add = [&](Channel ch, const std::string& to) {
      Delivery d;
      d.contact = static_cast<uint32_t>(i);
      d.contact_name = c.name;
      d.channel = ch;
      d.to = to;
      e.deliveries.push_back(std::move(d));
    };
    if (!c.email.empty()) add(Channel::kEmail, c.email);
    if (!c.phone.empty() && cfg->alerts.sms.kind != config::SmsKind::kNone)
      add(Channel::kSms, c.phone);
    if (!c.webhook.empty()) add(Channel::kWebhook, c.webhook);
  }
}

void AlertEngine::Prepare(AlertEvent& e, Tracked* t, const std::string& customer,
                          std::optional<size_t> only_contact, control::ChangeSet* cs,
                          std::vector<std::pair<std::string, OutboxItem>>* items) {
  auto cfg = Config();
  e.at_ms = NowMs();
  e.node = node_;
  if (t) {
    e.error = t->s.error;
    e.queue_messages = t->backlog.messages;
    e.oldest_ms = t->backlog.oldest_arrival_ms;
    auto d = cfg->domains.find(e.domain);
    e.customer = d == cfg->domains.end() ? "" : d->second.customer;
  } else {
    e.customer = customer;
  }
  AddDeliveries(e, only_contact);
  cs->puts.push_back({EventKey(e.id), EventJson(e)});
  for (size_t i = 0; i < e.deliveries.size(); ++i) {
    OutboxItem item{e.id, i, e.at_ms, e.at_ms, 0};
    items->emplace_back(OutboxKey(e.id, i), item);
    cs->puts.push_back({items->back().first, OutboxJson(item)});
  }
}

// Makes the event once (across restarts and nodes) with its outbox; false on a store error.
bool AlertEngine::Emit(AlertEvent e, Tracked* t, const std::string& customer,
                       std::optional<size_t> only_contact) {
  control::ChangeSet cs;
  std::vector<std::pair<std::string, OutboxItem>> items;
  Prepare(e, t, customer, only_contact, &cs, &items);
  bool applied = false;
  Status st = store_.CommitIfAbsent(EventKey(e.id), cs, &applied);
  if (!st.ok()) {
    log::Error("alert_write_failed").kv("event", e.id).kv("detail", st.message());
    return false;
  }
  Made(e, applied, items);
  return true;
}

// Logs a made (or already existing) event and schedules its outbox.
void AlertEngine::Made(const AlertEvent& e, bool applied,
                       std::vector<std::pair<std::string, OutboxItem>>& items) {
  log::Info(applied ? "alert" : "alert_exists")
      .kv("event", KindName(e.kind))
      .kv("id", e.id)
      .kv("domain", e.domain)
      .kv("customer", e.customer)
      .kv("deliveries", e.deliveries.size());
  if (applied)
    for (auto& [key, item] : items) Schedule(key, item);
  ArmOutbox();
}

std::string AlertEngine::SendTest(const std::string& customer, std::optional<size_t> contact) {
  int64_t now = NowMs();
  std::string id = EventId("~" + customer, now, AlertKind::kTest, 0);
  Post([this, id, customer, contact, now] {
    AlertEvent e;
    e.kind = AlertKind::kTest;
    e.id = id;
    e.since_ms = now;
    Emit(std::move(e), nullptr, customer, contact);
  });
  return id;
}

std::optional<AlertEvent> AlertEngine::LoadEvent(const std::string& id) {
  std::string text;
  AlertEvent e;
  if (!store_.Get(EventKey(id), &text).ok() || !ParseEvent(text, &e)) return std::nullopt;
  return e;
}

void AlertEngine::ArmUsage() {
  usage_timer_.expires_after(Config()->usage.flush_interval);
  usage_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    auto c = Config();
    auto t = Tenants();
    usage_->Flush(counters_.Drain(), *c, *t, NowMs());
    ArmUsage();
  });
}

}  // namespace sw::alerts
