// Owns the interface of the durable message store (envelopes and bodies).
// Fails by Status: every callback gets ok, or an error after which nothing was half-stored.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "queue/envelope.h"

namespace sw::queue {

// Callbacks run on a store thread: post them to your own executor before touching state.
class QueueStore {
 public:
  using Done = std::function<void(Status)>;
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
  // Reads a body.
  virtual void ReadBody(const std::string& id,
                        std::function<void(Status, std::shared_ptr<const std::string>)> done) = 0;
  // Startup: calls `fn` for every envelope in ID order, never reading bodies. Unreadable
  // records are moved aside (logged), not dropped. Blocking; call before serving.
  virtual Status ScanEnvelopes(const std::function<void(Envelope&&)>& fn) = 0;
  // Small durable key/value area for runtime state (domain up/down, provisioning).
  virtual Status PutMeta(const std::string& key, const std::string& value) = 0;
  virtual Status GetMeta(const std::string& key, std::string* value) = 0;
};

}  // namespace sw::queue
