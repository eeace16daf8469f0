// Owns how a node's control plane follows the shared store (SPEC section 13): change versions
// from the store's watch, reloads of tenants, tokens and domains off the io thread, and the
// store's reachability (gauge, events). Fails by keeping the last loaded state; never throws.
#include <boost/asio/post.hpp>
#include <chrono>

#include "common/log.h"
#include "control/control_plane.h"

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
  ControlStore* store = &store_;
  bool posted = PostToWorker([this, store] {
    auto started = std::chrono::steady_clock::now();
    auto r = std::make_shared<Records>();
    uint64_t version = 0;
    // The version before the records: what changes meanwhile comes again with a newer one.
    Status st = store->ChangeVersion(&version);
    if (st.ok()) st = ReadRecords(*store, r.get());
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
    PostToIo([this, r, version, st, ms] { Reloaded(r, version, st, ms); });
  });
  if (!posted) reloading_ = false;
}

void ControlPlane::Reloaded(std::shared_ptr<Records> r, uint64_t version, Status st, int64_t ms) {
  reloading_ = false;
  if (!st.ok()) {
    // Kept as it is; the watch's next event (within a second once the store answers) retries.
    log::Warn("control_reload_failed").kv("detail", st.message());
    return;
  }
  size_t bad = r->unreadable;
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
