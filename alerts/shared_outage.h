// Owns the cluster's shared domain health records (CLUSTER.md, SPEC section 13): the open
// outage of a domain ("outage/<domain>", one per cluster, made with its `down` event), the
// guard of its end ("outage_end/<domain>/<since>"), the last recovery ("recovered/<domain>")
// and each node's last success ("health/<domain>/<node>"). Opening and closing are atomic
// against every node through ControlStore::CommitIfAbsent: exactly one node wins each.
// Fails by Status from the store (the caller logs it and retries on its next timer).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"
#include "control/control_store.h"

namespace sw::alerts {

// An outage as every node of the cluster sees it.
struct SharedOutage {
  int64_t since_ms = 0;       // the opener's first failure: the outage's events are named by it
  int64_t down_event_ms = 0;  // when the `down` event was made (still_down counts from it)
  std::string opened_by;      // the node
  std::string error;
};

std::string OutageKey(const std::string& domain);
std::string SharedOutageJson(const SharedOutage& o);
bool ParseSharedOutage(const std::string& json, SharedOutage* o);

class SharedOutages {
 public:
  SharedOutages(control::ControlStore& store, std::string node);

  // Every open outage of the cluster, by domain.
  Status LoadOpen(std::map<std::string, SharedOutage>* out);
  // The open outage of `domain`; kNotFound when there is none.
  Status Get(const std::string& domain, SharedOutage* out);
  // Opens `o` for `domain` with `changes` (its `down` event and outbox) in one transaction,
  // unless an outage is open already: false in *applied then, nothing written.
  Status Open(const std::string& domain, const SharedOutage& o, control::ChangeSet changes,
              bool* applied);
  // Ends the outage that began at `since_ms` (recovered at `up_ms` on this node) unless some
  // node ended it already: false in *applied then.
  Status Close(const std::string& domain, int64_t since_ms, int64_t up_ms, bool* applied);
  // When the last outage of `domain` ended (0: never, or unknown).
  int64_t LastRecovery(const std::string& domain);
  // The latest success another node reported for `domain` (0: none).
  Status OthersLastOk(const std::string& domain, int64_t* ok_ms);

  // This node delivered to `domain` at `at_ms`: kept in memory, written by FlushHealth at most
  // once per `every_ms` per domain.
  void NoteOk(const std::string& domain, int64_t at_ms, int64_t every_ms);
  Status FlushHealth();

 private:
  control::ControlStore& store_;
  std::string node_;
  std::map<std::string, int64_t> written_;  // domain -> last ok_ms written
  std::map<std::string, int64_t> pending_;  // domain -> ok_ms not yet written
};

}  // namespace sw::alerts
