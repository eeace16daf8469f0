// Owns how a node's control plane follows the shared store (SPEC section 13): change versions
// from the store's watch, reads of the changed records (the store's change log; all of them
// when it has none) off the io thread, and the store's reachability (gauge, events). Fails by
// keeping the last loaded state; never throws.
#include <boost/asio/post.hpp>
#include <chrono>

#include "common/log.h"
#include "control/control_plane.h"
#include "control/domain_json.h"
#include "control/tenant_json.h"

namespace sw::control {

ControlPlane::~ControlPlane() { StopWatching(); }

void ControlPlane::StartWatching() {
  {
    std::lock_guard lock(worker_mu_);
    if (worker_running_) return;
    worker_running_ = true;
    worker_stop_ = false;
  }
  worker_ = std::thread([this] { WorkerLoop(); });
  up_gauge_ = metrics::Global().AddCallback(
      "spamweeder_control_store_up",
      "1 while the control store answers, 0 while it does not (cluster mode: PostgreSQL)",
      metrics::Type::kGauge, [this] {
        return std::vector<metrics::Sample>{{{}, StoreUp() ? 1.0 : 0.0}};
      });
  bool watched = store_.WatchChanges(
      [this](const ControlStore::WatchEvent& e) { PostToIo([this, e] { OnWatchEvent(e); }); });
  log::Info("control_watch").kv("watched", watched).kv("version", applied_version_);
}

void ControlPlane::StopWatching() {
  store_.StopWatching();  // no more events after this
  {
    std::lock_guard lock(worker_mu_);
    if (!worker_running_) return;
    worker_stop_ = true;
  }
  worker_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard lock(worker_mu_);
  worker_running_ = false;
  jobs_.clear();
  up_gauge_.Reset();
}

void ControlPlane::PostToIo(std::function<void()> fn) {
  std::weak_ptr<int> alive = alive_;
  boost::asio::post(io_, [alive, fn = std::move(fn)] {
    if (alive.lock()) fn();
  });
}

bool ControlPlane::PostToWorker(std::function<void()> job) {
  {
    std::lock_guard lock(worker_mu_);
    if (!worker_running_ || worker_stop_) return false;
    jobs_.push_back(std::move(job));
  }
  worker_cv_.notify_one();
  return true;
}

void ControlPlane::WorkerLoop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(worker_mu_);
      worker_cv_.wait(lock, [this] { return worker_stop_ || !jobs_.empty(); });
      if (worker_stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

void ControlPlane::OnWatchEvent(const ControlStore::WatchEvent& e) {
  bool was_up = store_up_.exchange(e.up, std::memory_order_relaxed);
  if (!e.up) {
    if (was_up)
      log::Error("control_store_unavailable")
          .kv("detail", e.detail)
          .kv("version", applied_version_);
    return;
  }
  if (!was_up) log::Info("control_store_restored").kv("version", e.version);
  if (e.version > newest_version_) newest_version_ = e.version;
  MaybeReload();
}

void ControlPlane::NoteOwnVersion(uint64_t version) {
  if (version == 0) return;
  if (version > newest_version_) newest_version_ = version;
  // The next version after what is in memory: this write is all that changed. A gap means
  // another node wrote in between: read everything back.
  if (version == applied_version_ + 1) applied_version_ = version;
  MaybeReload();
}

void ControlPlane::MaybeReload() {
  if (reloading_ || newest_version_ <= applied_version_) return;
  reloading_ = true;
  uint64_t from = applied_version_;
  if (!PostToWorker([this, from] { ReadFrom(from); })) reloading_ = false;
}

void ControlPlane::ReadFrom(uint64_t from) {
  auto started = std::chrono::steady_clock::now();
  auto elapsed = [started] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 started)
        .count();
  };
  // The change log first: only what changed since `from`, O(changes) not O(records).
  auto changes = std::make_shared<std::vector<RecordChange>>();
  uint64_t version = 0;
  bool complete = false;
  Status st = store_.ReadChangesSince(from, &version, changes.get(), &complete);
  if (st.ok() && complete) {
    PostToIo([this, changes, version, ms = elapsed()] { ChangesRead(changes, version, ms); });
    return;
  }
  auto r = std::make_shared<Records>();
  // The version before the records: what changes meanwhile comes again with a newer one.
  if (st.ok()) st = store_.ChangeVersion(&version);
  if (st.ok()) st = ReadRecords(store_, r.get());
  PostToIo([this, r, version, st, ms = elapsed()] { Reloaded(r, version, st, ms); });
}

bool ControlPlane::ApplyRecord(const RecordChange& ch) {
  const std::string& key = ch.key;
  const std::string id = key.size() > 2 ? key.substr(2) : "";
  bool ok = true;
  if (key.rfind("r/", 0) == 0) {
    resellers_.erase(id);
    Reseller r;
    if (!ch.deleted && (ok = LoadReseller(ch.json, &r))) resellers_[r.id] = std::move(r);
  } else if (key.rfind("c/", 0) == 0) {
    customers_.erase(id);
    Customer c;
    if (!ch.deleted && (ok = LoadCustomer(ch.json, &c))) customers_[c.id] = std::move(c);
  } else if (key.rfind("t/", 0) == 0) {
    if (auto t = tokens_.find(id); t != tokens_.end()) {
      token_by_hash_.erase(t->second.hash);
      tokens_.erase(t);
    }
    Token t;
    if (!ch.deleted && (ok = LoadToken(ch.json, &t))) {
      token_by_hash_[t.hash] = t.id;
      tokens_[t.id] = std::move(t);
    }
  } else if (key.rfind("d/", 0) == 0) {
    domains_.erase(id);
    DomainRecord d;
    if (!ch.deleted && (ok = LoadDomain(ch.json, &d))) domains_[d.domain.name] = std::move(d);
  }
  if (!ok) log::Error("control_record_unreadable").kv("key", key);
  return ok;
}

void ControlPlane::ChangesRead(std::shared_ptr<std::vector<RecordChange>> changes, uint64_t version,
                               int64_t ms) {
  reloading_ = false;
  bool tenants = false, domains = false;
  size_t bad = 0;
  for (const auto& ch : *changes) {
    tenants |= ch.key.rfind("r/", 0) == 0 || ch.key.rfind("c/", 0) == 0;
    domains |= ch.key.rfind("d/", 0) == 0;
    bad += !ApplyRecord(ch);
  }
  // A write of this node's committed meanwhile may have been overwritten by the older value
  // read here: its version is above `version`, so it is read once more below.
  if (version > applied_version_) applied_version_ = version;
  ++follow_stats_.change_reads;
  follow_stats_.records_changed += changes->size();
  if (tenants) RebuildTenants();
  if (domains) PublishNow();
  log::Info("control_changes_applied")
      .kv("version", version)
      .kv("records", changes->size())
      .kv("unreadable", bad)
      .kv("ms", ms);
  MaybeReload();
}

void ControlPlane::Reloaded(std::shared_ptr<Records> r, uint64_t version, Status st, int64_t ms) {
  reloading_ = false;
  if (!st.ok()) {
    // Kept as it is; the watch's next event (within a second once the store answers) retries.
    log::Warn("control_reload_failed").kv("detail", st.message());
    return;
  }
  size_t bad = r->unreadable;
  ++follow_stats_.full_reads;
  TakeRecords(std::move(*r));
  // Local writes committed while reading may be missing from the records: they raised
  // newest_version_ above `version`, so the records are read once more.
  applied_version_ = version;
  RebuildTenants();
  PublishNow();
  log::Info("control_reloaded")
      .kv("version", version)
      .kv("resellers", resellers_.size())
      .kv("customers", customers_.size())
      .kv("domains", domains_.size())
      .kv("tokens", tokens_.size())
      .kv("unreadable", bad)
      .kv("ms", ms);
  MaybeReload();
}

}  // namespace sw::control
