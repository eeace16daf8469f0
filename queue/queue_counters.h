// Owns the per-domain queue counters (messages, bytes, held, arrival histogram), index keys.
// Cannot fail: plain data and arithmetic; DecodeCell returns false on a malformed value.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "queue/envelope.h"

namespace sw::queue {

// Width of one arrival-histogram bucket: ages and the oldest message are exact to this.
inline constexpr int64_t kCountBucketMs = 5 * 60 * 1000;
// The pseudo-domain of the node's totals (each message once): no DNS name contains \x01.
inline const std::string kTotalsDomain = "\x01";

// One (domain, arrival bucket) cell, or a sum of them.
struct CountCell {
  int64_t messages = 0, bytes = 0, held = 0;
  int64_t min_arrival_ms = 0;  // oldest arrival ever added to the cell (0: none)
  bool Zero() const { return messages == 0 && bytes == 0 && held == 0; }
  void Add(const CountCell& d);
};

struct DomainCounts {
  CountCell total;
  std::map<int64_t, CountCell> buckets;  // bucket start (ms) -> cell; only non-zero cells
};

// Index keys: by_domain "<domain>\0<id>" (arrival order within a domain), counts
// "<domain>\0<be64 bucket start>", by_retry "<be64 due ms><id>\0<domain>" (due order).
std::string DomainKey(const std::string& domain, const std::string& id);
std::string RetryKey(int64_t due_ms, const std::string& id, const std::string& domain);
bool ParseRetryKey(std::string_view key, int64_t* due_ms, std::string* id, std::string* domain);
// The by_retry keys an envelope has: one per pending domain while it waits for a later
// attempt (next_attempt_ms set, not held); sorted by domain.
std::vector<std::string> RetryKeys(const Envelope& env);
std::string DomainPrefix(const std::string& domain);
std::string CountKey(const std::string& domain, int64_t bucket);
bool ParseCountKey(std::string_view key, std::string* domain, int64_t* bucket);
std::string EncodeCell(const CountCell& c);
bool DecodeCell(std::string_view v, CountCell* c);
int64_t BucketOf(int64_t arrival_ms);

// Domains with pending recipients, each once, sorted.
std::vector<std::string> PendingDomains(const Envelope& env);

// A batch's change of counters: (domain, bucket) -> delta.
using CountDelta = std::map<std::pair<std::string, int64_t>, CountCell>;
// Adds `sign` x the envelope's contribution (each pending domain, and the totals) to `d`.
void AddContribution(const Envelope& env, int sign, CountDelta* d);

// All counters, keyed by domain (kTotalsDomain holds the node's totals).
class QueueCounters {
 public:
  void Set(const std::string& domain, int64_t bucket, const CountCell& c);
  // Value of one cell after `delta` (for the write batch), without applying it.
  CountCell After(const std::string& domain, int64_t bucket, const CountCell& delta) const;
  void Apply(const CountDelta& d);
  const std::map<std::string, DomainCounts>& domains() const { return domains_; }

 private:
  std::map<std::string, DomainCounts> domains_;
};

}  // namespace sw::queue
