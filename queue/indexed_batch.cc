// Owns one group commit's WriteBatch with the queue indexes kept in step (see indexed_batch.h).
// Fails never itself; unreadable old records count as absent.
#include "queue/indexed_batch.h"

#include <rocksdb/db.h>

#include <algorithm>

#include "queue/record_codec.h"

namespace sw::queue {

std::optional<Envelope> IndexedBatch::Current(const std::string& id) {
  if (auto it = staged_.find(id); it != staged_.end()) return it->second;
  std::string raw;
  if (!db_.Get(rocksdb::ReadOptions(), cf_.envelopes, id, &raw).ok()) return std::nullopt;
  return DecodeEnvelope(raw);
}

void IndexedBatch::Replace(const std::optional<Envelope>& old, const std::optional<Envelope>& now,
                           const std::string& id) {
  std::vector<std::string> before, after, retry_before, retry_after;
  if (old) {
    before = PendingDomains(*old);
    retry_before = RetryKeys(*old);
    AddContribution(*old, -1, &delta_);
  }
  if (now) {
    after = PendingDomains(*now);
    retry_after = RetryKeys(*now);
    AddContribution(*now, +1, &delta_);
  }
  for (const auto& d : before)
    if (!std::binary_search(after.begin(), after.end(), d))
      batch_.Delete(cf_.by_domain, DomainKey(d, id));
  for (const auto& d : after)
    if (!std::binary_search(before.begin(), before.end(), d))
      batch_.Put(cf_.by_domain, DomainKey(d, id), "");
  // The next-attempt index: keys sorted (same due and ID, by domain) like the domain lists.
  for (const auto& k : retry_before)
    if (!std::binary_search(retry_after.begin(), retry_after.end(), k))
      batch_.Delete(cf_.by_retry, k);
  for (const auto& k : retry_after)
    if (!std::binary_search(retry_before.begin(), retry_before.end(), k))
      batch_.Put(cf_.by_retry, k, "");
  staged_[id] = now;
}

void IndexedBatch::PutEnvelope(const Envelope& env, bool fresh) {
  std::optional<Envelope> old;
  if (!fresh) old = Current(env.id);
  batch_.Put(cf_.envelopes, env.id, EncodeEnvelope(env));
  Replace(old, env, env.id);
}

void IndexedBatch::EraseEnvelope(const std::string& id) {
  std::optional<Envelope> old = Current(id);
  batch_.Delete(cf_.envelopes, id);
  batch_.Delete(cf_.bodies, id);
  Replace(old, std::nullopt, id);
}

void IndexedBatch::Patch(const std::string& id, int held, bool clear_next_attempt) {
  std::optional<Envelope> old = Current(id);
  if (!old) return;
  Envelope now = *old;
  if (held >= 0) now.held = held != 0;
  if (clear_next_attempt) now.next_attempt_ms = 0;
  batch_.Put(cf_.envelopes, id, EncodeEnvelope(now));
  Replace(old, now, id);
}

void IndexedBatch::AdjustCounts(const CountDelta& fix) {
  for (const auto& [key, cell] : fix) delta_[key].Add(cell);
}

const CountDelta& IndexedBatch::Seal() {
  for (const auto& [key, d] : delta_) {
    CountCell after = counters_.After(key.first, key.second, d);
    if (after.Zero())
      batch_.Delete(cf_.counts, CountKey(key.first, key.second));
    else
      batch_.Put(cf_.counts, CountKey(key.first, key.second), EncodeCell(after));
  }
  return delta_;
}

}  // namespace sw::queue
