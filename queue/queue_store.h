// Owns the interface of the durable message store (envelopes, bodies, queue indexes).
// Fails by Status: every callback gets ok, or an error after which nothing was half-stored.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "queue/envelope.h"
#include "queue/queue_counters.h"

namespace sw::queue {

// One (message, domain) whose next attempt is due, read from the next-attempt index.
struct DueRetry {
  int64_t due_ms = 0;
  std::string domain;
  Envelope env;
};
// A page of the next-attempt index in due order. `last_key`: the last index key returned (the
// cursor for the next read); `next_due_ms`: the due time of the first key not returned (0:
// none), which is <= now when the page stopped at its limit.
struct DuePage {
  Status status;
  std::vector<DueRetry> due;
  std::string last_key;
  int64_t next_due_ms = 0;
};

// Callbacks run on a store thread: post them to your own executor before touching state.
// Every envelope write keeps the indexes (by domain in arrival order) and the per-domain
// counters in step, in the same atomic batch.
class QueueStore {
 public:
  using Done = std::function<void(Status)>;
  // Envelopes read in key order; `last` is the last index key's ID visited ("" if none), `end`
  // true when nothing follows it.
  using EnvelopesDone =
      std::function<void(Status, std::vector<Envelope> envs, std::string last, bool end)>;
  // A bulk change of one stored envelope (skipped when it is gone).
  struct Patch {
    std::string id;
    int held = -1;  // -1 unchanged, 0 release, 1 hold
    bool clear_next_attempt = false;
  };
  virtual ~QueueStore() = default;

  // Envelope and body written atomically and synced to disk before `done(ok)`.
  // Concurrent calls share one sync (group commit).
  virtual void Enqueue(const Envelope& env, std::shared_ptr<const std::string> body, Done done) = 0;
  // Rewrites the envelope. `sync` for operator actions (hold) that must survive a crash;
  // scheduling updates may be lost in a crash (the message is only retried earlier).
  virtual void Update(const Envelope& env, bool sync, Done done) = 0;
  // Deletes envelope and body. Not synced: after a crash the message may be delivered
  // again (a duplicate), never lost.
  virtual void Remove(const std::string& id, Done done) = 0;
  // Bulk operator actions: one batch, group-committed with everything else.
  virtual void PatchMany(std::vector<Patch> patches, bool sync, Done done) = 0;
  virtual void RemoveMany(std::vector<std::string> ids, bool sync, Done done) = 0;
  // Reads, off the caller's thread and after every write submitted before the call, up to
  // `limit` entries of the next-attempt index after key `after_key` ("" from the start) that
  // are due at `now_ms`, with their envelopes (an entry whose envelope is gone is skipped).
  virtual void ReadDue(const std::string& after_key, int64_t now_ms, size_t limit,
                       std::function<void(DuePage)> done) = 0;
  // Recounts every domain's counters from the envelopes in the background (off the caller's
  // thread, reads interleaved with others) and replaces those that drifted, atomically with
  // the writes after them. `done` gets the domains repaired.
  virtual void RepairCounts(std::function<void(std::vector<std::string> repaired)> done) = 0;
  // After it returns, the `done` of a running RepairCounts is never called (its owner stops).
  virtual void CancelRepair() = 0;
  // Reads a body.
  virtual void ReadBody(const std::string& id,
                        std::function<void(Status, std::shared_ptr<const std::string>)> done) = 0;
  // Reads, off the caller's thread and after every write submitted before the call: up to
  // `limit` envelopes with a pending recipient in `domain` (arrival order) after ID `after`.
  virtual void ReadDomain(const std::string& domain, const std::string& after, size_t limit,
                          EnvelopesDone done) = 0;
  // One envelope by ID (an empty page when it is not queued), after earlier writes.
  virtual void ReadEnvelope(const std::string& id, EnvelopesDone done) = 0;
  // The same over the whole queue in ID (arrival) order.
  virtual void ReadQueue(const std::string& after, size_t limit, EnvelopesDone done) = 0;
  // Startup: calls `fn` for every envelope in ID order, never reading bodies. Unreadable
  // records are moved aside (logged), not dropped. Blocking; call before serving.
  virtual Status ScanEnvelopes(const std::function<void(Envelope&&)>& fn) = 0;
  // Per-domain counters (kTotalsDomain: the node's totals) as of the last durable batch.
  virtual void VisitCounts(
      const std::function<void(const std::map<std::string, DomainCounts>&)>& fn) const = 0;
  // The highest queue ID stored ("" when empty).
  virtual std::string LastId() = 0;
  // Small durable key/value area for runtime state (domain up/down, provisioning).
  virtual Status PutMeta(const std::string& key, const std::string& value) = 0;
  // The same through the writer thread (never blocks the caller); `done` may be null.
  virtual void PutMetaAsync(const std::string& key, const std::string& value, Done done) = 0;
  virtual Status GetMeta(const std::string& key, std::string* value) = 0;
  // Every meta key starting with `prefix`, in key order.
  virtual Status ScanMeta(
      const std::string& prefix,
      const std::function<void(const std::string&, const std::string&)>& fn) = 0;
};

}  // namespace sw::queue
