// Owns a cluster node's local snapshot of the shared control plane (see the header).
// Fails by Status: kUnavailable for what needs the database while it is not connected.
#include "control/snapshot_control_store.h"

#include <cstdlib>
#include <set>

#include "common/log.h"

namespace sw::control {

namespace {

constexpr const char* kVersionKey = "m/snapshot_version";
constexpr const char* kPrefixes[] = {"r/", "c/", "t/", "d/"};

Status NotConnected() {
  return Status(Status::Code::kUnavailable,
                "control store unreachable: serving the local snapshot (read only)");
}

int PrefixIndex(const std::string& prefix) {
  for (int i = 0; i < 4; ++i)
    if (prefix == kPrefixes[i]) return i;
  return -1;
}

}  // namespace

bool SnapshotKey(const std::string& key) {
  for (const char* p : kPrefixes)
    if (key.rfind(p, 0) == 0) return true;
  return false;
}

std::unique_ptr<SnapshotControlStore> SnapshotControlStore::Open(const std::string& path,
                                                                 Connect connect,
                                                                 std::chrono::milliseconds retry,
                                                                 Status* error) {
  std::unique_ptr<SnapshotControlStore> s(new SnapshotControlStore());
  s->local_ = RocksDbControlStore::Open(path, error);
  if (!s->local_) return nullptr;
  s->connect_ = std::move(connect);
  s->retry_ = retry;
  std::string v;
  bool written = s->local_->Get(kVersionKey, &v).ok();
  if (written) s->local_version_ = std::strtoull(v.c_str(), nullptr, 10);
  s->saved_ = written;
  Status st;
  s->owned_ = s->connect_(&st);
  if (s->owned_) {
    s->primary_.store(s->owned_.get(), std::memory_order_release);
    return s;
  }
  if (!written) {
    *error = Status(st.code(), st.message() + " (and no local snapshot of the control plane at " +
                                   path + " yet: a node's first start needs the database)");
    return nullptr;
  }
  log::Warn("control_snapshot_serving")
      .kv("path", path)
      .kv("version", s->local_version_.load())
      .kv("detail", st.message());
  return s;
}

SnapshotControlStore::~SnapshotControlStore() { StopWatching(); }

void SnapshotControlStore::OnConnected(std::function<void()> fn) {
  {
    std::lock_guard lock(watch_mu_);
    if (!connected()) {
      on_connected_.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

Status SnapshotControlStore::ScanPrefix(
    const std::string& prefix,
    const std::function<bool(const std::string&, const std::string&)>& fn) {
  ControlStore* p = Primary();
  int copy = PrefixIndex(prefix);
  if (!p) return copy >= 0 ? local_->ScanPrefix(prefix, fn) : NotConnected();
  if (copy < 0) return p->ScanPrefix(prefix, fn);
  std::vector<RecordPut> seen;
  bool whole = true;
  Status st = p->ScanPrefix(prefix, [&](const std::string& key, const std::string& json) {
    seen.push_back({key, json});
    whole = fn(key, json);
    return whole;
  });
  if (st.ok() && whole) CopyPrefix(prefix, seen);
  return st;
}

Status SnapshotControlStore::Get(const std::string& key, std::string* json) {
  if (ControlStore* p = Primary()) return p->Get(key, json);
  return SnapshotKey(key) ? local_->Get(key, json) : NotConnected();
}

Status SnapshotControlStore::Commit(const ChangeSet& changes) {
  ControlStore* p = Primary();
  if (!p) return NotConnected();
  Status st = p->Commit(changes);
  if (st.ok()) CopyChangeSet(changes);
  return st;
}

Status SnapshotControlStore::CommitIfAbsent(const std::string& guard, const ChangeSet& changes,
                                            bool* applied) {
  ControlStore* p = Primary();
  if (!p) return NotConnected();
  Status st = p->CommitIfAbsent(guard, changes, applied);
  if (st.ok() && *applied) CopyChangeSet(changes);
  return st;
}

Status SnapshotControlStore::PutUnsynced(const std::vector<RecordPut>& puts) {
  ControlStore* p = Primary();
  return p ? p->PutUnsynced(puts) : NotConnected();
}

Status SnapshotControlStore::UpdateUnsynced(const std::vector<RecordPut>& puts) {
  ControlStore* p = Primary();
  return p ? p->UpdateUnsynced(puts) : NotConnected();
}

Status SnapshotControlStore::ReadAudit(AuditCursor from, size_t limit,
                                       const std::function<bool(const std::string&)>& keep,
                                       std::vector<AuditRow>* out) {
  ControlStore* p = Primary();
  return p ? p->ReadAudit(from, limit, keep, out) : NotConnected();
}

uint64_t SnapshotControlStore::LastAuditSeq() {
  ControlStore* p = Primary();
  return p ? p->LastAuditSeq() : 0;
}

Status SnapshotControlStore::ReserveAuditSeqs(size_t n, uint64_t* first) {
  ControlStore* p = Primary();
  return p ? p->ReserveAuditSeqs(n, first) : NotConnected();
}

Status SnapshotControlStore::CommitVersioned(const ChangeSet& changes, uint64_t* version) {
  ControlStore* p = Primary();
  if (!p) return NotConnected();
  Status st = p->CommitVersioned(changes, version);
  // Records only: the snapshot's version moves with full reads and the change log, which
  // bring every change up to a version (this one may follow others not read yet).
  if (st.ok()) CopyChangeSet(changes);
  return st;
}

Status SnapshotControlStore::ChangeVersion(uint64_t* version) {
  ControlStore* p = Primary();
  if (!p) {
    *version = local_version_.load();
    return Status::Ok();
  }
  Status st = p->ChangeVersion(version);
  if (st.ok()) {
    std::lock_guard lock(copy_mu_);
    full_read_version_ = *version;
    full_read_prefixes_ = 0;
  }
  return st;
}

Status SnapshotControlStore::ReadChangesSince(uint64_t after, uint64_t* version,
                                              std::vector<RecordChange>* out, bool* complete) {
  ControlStore* p = Primary();
  if (!p) return NotConnected();
  Status st = p->ReadChangesSince(after, version, out, complete);
  if (st.ok() && *complete) CopyChanges(*out, *version);
  return st;
}

// Writes the snapshot's share of `puts` and `deletes` (unsynced puts; deletes, rare, synced).
bool SnapshotControlStore::WriteCopies(const std::vector<RecordPut>& puts,
                                       const std::vector<std::string>& deletes) {
  std::vector<RecordPut> keep;
  for (const auto& put : puts)
    if (SnapshotKey(put.key)) keep.push_back(put);
  ChangeSet gone;
  for (const auto& key : deletes)
    if (SnapshotKey(key)) gone.deletes.push_back(key);
  Status st = keep.empty() ? Status::Ok() : local_->PutUnsynced(keep);
  if (st.ok() && !gone.empty()) st = local_->Commit(gone);
  if (!st.ok()) log::Warn("control_snapshot_failed").kv("detail", st.message());
  return st.ok();
}

void SnapshotControlStore::CopyChangeSet(const ChangeSet& changes) {
  WriteCopies(changes.puts, changes.deletes);
}

void SnapshotControlStore::CopyPrefix(const std::string& prefix, std::vector<RecordPut>& records) {
  std::set<std::string> keep;
  for (const auto& r : records) keep.insert(r.key);
  std::vector<std::string> gone;
  Status st = local_->ScanPrefix(prefix, [&](const std::string& key, const std::string&) {
    if (!keep.count(key)) gone.push_back(key);
    return true;
  });
  if (!st.ok() || !WriteCopies(records, gone)) return;
  std::lock_guard lock(copy_mu_);
  full_read_prefixes_ |= 1u << PrefixIndex(prefix);
  if (full_read_prefixes_ == 0xF) {
    full_read_prefixes_ = 0;
    SaveVersion(full_read_version_);
  }
}

void SnapshotControlStore::CopyChanges(const std::vector<RecordChange>& changes, uint64_t version) {
  std::vector<RecordPut> puts;
  std::vector<std::string> deletes;
  for (const auto& ch : changes) {
    if (ch.deleted) {
      deletes.push_back(ch.key);
    } else {
      puts.push_back({ch.key, ch.json});
    }
  }
  if (!WriteCopies(puts, deletes)) return;
  std::lock_guard lock(copy_mu_);
  SaveVersion(version);
}

void SnapshotControlStore::SaveVersion(uint64_t version) {
  // A late reader never moves it back; the first save marks the snapshot written (version 0
  // included: a cluster whose records never changed still has a snapshot to start from).
  if (version < local_version_ || (version == local_version_ && saved_)) return;
  Status st = local_->PutUnsynced({{kVersionKey, std::to_string(version)}});
  if (!st.ok()) return;
  local_version_ = version;
  saved_ = true;
}

bool SnapshotControlStore::WatchChanges(std::function<void(const WatchEvent&)> fn) {
  if (ControlStore* p = Primary()) return p->WatchChanges(std::move(fn));
  std::lock_guard lock(watch_mu_);
  if (retry_thread_.joinable()) return true;
  watch_fn_ = std::move(fn);
  stop_ = false;
  retry_thread_ = std::thread([this] { RetryLoop(); });
  return true;
}

void SnapshotControlStore::RetryLoop() {
  bool reported = false;
  for (;;) {
    Status st;
    std::unique_ptr<ControlStore> p = connect_(&st);
    std::unique_lock lock(watch_mu_);
    if (stop_) return;
    if (p) {
      // Under the lock: StopWatching waits until the primary's watch has started, then stops it.
      owned_ = std::move(p);
      primary_.store(owned_.get(), std::memory_order_release);
      auto callbacks = std::move(on_connected_);
      owned_->WatchChanges(watch_fn_);  // reports `up` with the version: the node catches up
      lock.unlock();
      log::Info("control_snapshot_connected").kv("snapshot_version", local_version_.load());
      for (auto& cb : callbacks) cb();
      return;
    }
    if (!reported) {
      reported = true;
      lock.unlock();
      watch_fn_({false, 0, st.message()});
      lock.lock();
    }
    watch_cv_.wait_for(lock, retry_, [this] { return stop_; });
    if (stop_) return;
  }
}

void SnapshotControlStore::StopWatching() {
  {
    std::lock_guard lock(watch_mu_);
    stop_ = true;
  }
  watch_cv_.notify_all();
  if (retry_thread_.joinable() && retry_thread_.get_id() != std::this_thread::get_id())
    retry_thread_.join();
  if (ControlStore* p = Primary()) p->StopWatching();
}

}  // namespace sw::control
