// Owns the control plane's storage interface: tenant, token and domain records as JSON
// documents by key, and the append-only audit log. Fails by Status; never throws.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace sw::control {

// Record keys are "<kind>/<id>": kind r (reseller), c (customer), d (domain), t (token);
// alert plane (alerts/): a (alert event), o (outbox), h (status history), s (alert state),
// u (usage per domain per hour per node), k (daily census per reseller); cluster mode's shared
// domain health (alerts/shared_outage.h): outage/, outage_end/, recovered/, health/.
struct RecordPut {
  std::string key;
  std::string json;
};

// One audit row; `json` is the whole entry as the API shows it (with its seq).
struct AuditRow {
  uint64_t seq = 0;
  std::string json;
};

// Where a page of the audit log starts: oldest first with seq > `seq` (the default, from a
// plain number), or newest first with seq < `seq` (0: from the newest row).
struct AuditCursor {
  AuditCursor(uint64_t after = 0) : seq(after) {}  // NOLINT: implicit, "after this seq"
  static AuditCursor Before(uint64_t before) {
    AuditCursor c(before);
    c.newest_first = true;
    return c;
  }
  uint64_t seq = 0;
  bool newest_first = false;
};

// A record changed since a change version (ControlStore::ReadChangesSince): its value now.
struct RecordChange {
  std::string key;
  bool deleted = false;  // no record under `key` any more
  std::string json;      // the record now, when not deleted
};

// Everything one API write changes, committed atomically and synced to disk.
struct ChangeSet {
  std::vector<RecordPut> puts;
  std::vector<std::string> deletes;
  std::vector<AuditRow> audit;
  bool empty() const { return puts.empty() && deletes.empty() && audit.empty(); }
};

// Implementations: RocksDbControlStore (embedded, default). Nothing above this interface may
// assume the store is local (a PostgreSQL implementation shares it, SPEC section 13).
class ControlStore {
 public:
  virtual ~ControlStore() = default;
  // Calls `fn(key, json)` for every record whose key starts with `prefix`, in key order,
  // until `fn` returns false.
  virtual Status ScanPrefix(
      const std::string& prefix,
      const std::function<bool(const std::string& key, const std::string& json)>& fn) = 0;
  // One record; kNotFound when there is none.
  virtual Status Get(const std::string& key, std::string* json) = 0;
  // Applies `changes` in one synced write; nothing of it is applied on failure.
  virtual Status Commit(const ChangeSet& changes) = 0;
  // Like Commit, but only when no record `guard` exists yet: false in *applied (and nothing
  // written) when it does. Atomic against every other writer of the store (a node of the
  // cluster included): the one-alert-per-event rule rests on it.
  virtual Status CommitIfAbsent(const std::string& guard, const ChangeSet& changes,
                                bool* applied) = 0;
  // Writes `puts` without waiting for the disk (e.g. a token's last-used time).
  virtual Status PutUnsynced(const std::vector<RecordPut>& puts) = 0;
  // Like PutUnsynced, but only over records that exist: one deleted meanwhile (a token revoked
  // on any node) stays deleted. Atomic against Commit.
  virtual Status UpdateUnsynced(const std::vector<RecordPut>& puts) = 0;
  // Audit rows from `from` in its order for which `keep` is true; stops at `limit`.
  virtual Status ReadAudit(AuditCursor from, size_t limit,
                           const std::function<bool(const std::string& json)>& keep,
                           std::vector<AuditRow>* out) = 0;
  // The highest audit seq written so far (0: none).
  virtual uint64_t LastAuditSeq() = 0;
  // `n` consecutive audit seqs from *first, above every seq committed or reserved before
  // through any instance of the store (every node of a cluster), so that two writers never
  // number rows alike. A reserved seq never committed stays a gap.
  virtual Status ReserveAuditSeqs(size_t n, uint64_t* first) = 0;

  // Cluster stores count changes to tenant, token and domain records (keys r/ c/ t/ d/): each
  // Commit or CommitIfAbsent that writes one raises the store's change version by one, in the
  // same transaction. The embedded store has no other writer and keeps none (always 0).
  // Commit, with the change version it made in *version (0: none, or not a cluster store).
  virtual Status CommitVersioned(const ChangeSet& changes, uint64_t* version) {
    *version = 0;
    return Commit(changes);
  }
  // The current change version (0 for stores without one).
  virtual Status ChangeVersion(uint64_t* version) {
    *version = 0;
    return Status::Ok();
  }
  // The tenant, token and domain records changed by the change versions above `after`, each
  // once with its value now, and in *version the change version they bring the reader to,
  // all read in one snapshot. False in *complete (and nothing in `out`) when the store keeps
  // no change log, or no longer reaches back to `after`: the reader reads everything then.
  virtual Status ReadChangesSince(uint64_t after, uint64_t* version, std::vector<RecordChange>* out,
                                  bool* complete) {
    (void)after;
    (void)out;
    *version = 0;
    *complete = false;
    return Status::Ok();
  }
  // What a watched store reports, from a thread of its own: `up` with the change version at
  // least once a second while the server answers (after every change made through any node
  // within milliseconds), `up` false once when it stops answering.
  struct WatchEvent {
    bool up = true;
    uint64_t version = 0;
    std::string detail;  // why it is down
  };
  // Starts reporting to `fn` until StopWatching (or destruction); false when the store has
  // nothing to report (embedded: no other writer, never unreachable).
  virtual bool WatchChanges(std::function<void(const WatchEvent&)> fn) {
    (void)fn;
    return false;
  }
  // Joins the watching thread; `fn` is not called after it returns.
  virtual void StopWatching() {}
};

}  // namespace sw::control
