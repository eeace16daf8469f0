// Owns the per-domain queue counters and the on-disk index keys (see queue_counters.h).
// Cannot fail; malformed stored values are reported by DecodeCell returning false.
#include "queue/queue_counters.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace sw::queue {

namespace {

void PutBe64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetBe64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

}  // namespace

void CountCell::Add(const CountCell& d) {
  messages += d.messages;
  bytes += d.bytes;
  held += d.held;
  if (d.min_arrival_ms != 0 && (min_arrival_ms == 0 || d.min_arrival_ms < min_arrival_ms))
    min_arrival_ms = d.min_arrival_ms;
}

std::string DomainKey(const std::string& domain, const std::string& id) {
  std::string k = domain;
  k.push_back('\0');
  k += id;
  return k;
}

std::string RetryKey(int64_t due_ms, const std::string& id, const std::string& domain) {
  std::string k;
  PutBe64(&k, static_cast<uint64_t>(std::max<int64_t>(0, due_ms)));
  k += id;
  k.push_back('\0');
  k += domain;
  return k;
}

bool ParseRetryKey(std::string_view key, int64_t* due_ms, std::string* id, std::string* domain) {
  if (key.size() < 9) return false;
  size_t zero = key.find('\0', 8);
  if (zero == std::string_view::npos) return false;
  *due_ms = static_cast<int64_t>(GetBe64(key.substr(0, 8)));
  *id = std::string(key.substr(8, zero - 8));
  *domain = std::string(key.substr(zero + 1));
  return !id->empty();
}

std::vector<std::string> RetryKeys(const Envelope& env) {
  std::vector<std::string> keys;
  if (env.next_attempt_ms <= 0 || env.held) return keys;
  for (const auto& d : PendingDomains(env))
    keys.push_back(RetryKey(env.next_attempt_ms, env.id, d));
  return keys;
}

std::string DomainPrefix(const std::string& domain) {
  std::string k = domain;
  k.push_back('\0');
  return k;
}

std::string CountKey(const std::string& domain, int64_t bucket) {
  std::string k = DomainPrefix(domain);
  PutBe64(&k, static_cast<uint64_t>(bucket));
  return k;
}

bool ParseCountKey(std::string_view key, std::string* domain, int64_t* bucket) {
  if (key.size() < 9 || key[key.size() - 9] != '\0') return false;
  *domain = std::string(key.substr(0, key.size() - 9));
  *bucket = static_cast<int64_t>(GetBe64(key.substr(key.size() - 8)));
  return true;
}

std::string EncodeCell(const CountCell& c) {
  std::string s;
  for (int64_t v : {c.messages, c.bytes, c.held, c.min_arrival_ms})
    PutBe64(&s, static_cast<uint64_t>(v));
  return s;
}

bool DecodeCell(std::string_view v, CountCell* c) {
  if (v.size() != 32) return false;
  c->messages = static_cast<int64_t>(GetBe64(v.substr(0)));
  c->bytes = static_cast<int64_t>(GetBe64(v.substr(8)));
  c->held = static_cast<int64_t>(GetBe64(v.substr(16)));
  c->min_arrival_ms = static_cast<int64_t>(GetBe64(v.substr(24)));
  return true;
}

int64_t BucketOf(int64_t arrival_ms) { return arrival_ms - arrival_ms % kCountBucketMs; }

std::vector<std::string> PendingDomains(const Envelope& env) {
  std::set<std::string> s;
  for (const auto& r : env.recipients)
    if (r.state == RcptState::kPending) s.insert(r.domain);
  return {s.begin(), s.end()};
}

void AddContribution(const Envelope& env, int sign, CountDelta* d) {
  CountCell c;
  c.messages = sign;
  c.bytes = sign * static_cast<int64_t>(env.size);
  c.held = env.held ? sign : 0;
  c.min_arrival_ms = sign > 0 ? env.arrival_ms : 0;
  int64_t b = BucketOf(env.arrival_ms);
  (*d)[{kTotalsDomain, b}].Add(c);
  for (const auto& dom : PendingDomains(env)) (*d)[{dom, b}].Add(c);
}

void QueueCounters::Set(const std::string& domain, int64_t bucket, const CountCell& c) {
  DomainCounts& dc = domains_[domain];
  dc.total.Add(c);
  dc.buckets[bucket].Add(c);
}

CountCell QueueCounters::After(const std::string& domain, int64_t bucket,
                               const CountCell& delta) const {
  CountCell c;
  if (auto it = domains_.find(domain); it != domains_.end())
    if (auto b = it->second.buckets.find(bucket); b != it->second.buckets.end()) c = b->second;
  c.Add(delta);
  return c;
}

void QueueCounters::Apply(const CountDelta& d) {
  for (const auto& [key, delta] : d) {
    auto& [domain, bucket] = key;
    DomainCounts& dc = domains_[domain];
    CountCell& cell = dc.buckets[bucket];
    cell.Add(delta);
    dc.total.messages += delta.messages;
    dc.total.bytes += delta.bytes;
    dc.total.held += delta.held;
    if (cell.Zero()) dc.buckets.erase(bucket);
    if (dc.buckets.empty()) {
      domains_.erase(domain);
    } else {
      dc.total.min_arrival_ms = dc.buckets.begin()->second.min_arrival_ms;
    }
  }
}

}  // namespace sw::queue
