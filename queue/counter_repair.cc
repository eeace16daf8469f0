// Owns the counter repair: every domain's counters recounted from the envelopes in the background.
// Fails soft: a failed read leaves the counters as they were (logged); nothing else changes.
#include <rocksdb/db.h>
#include <rocksdb/snapshot.h>

#include <chrono>
#include <set>

#include "common/log.h"
#include "queue/record_codec.h"
#include "queue/rocksdb_queue_store.h"
#include "queue/rocksdb_status.h"

namespace sw::queue {

namespace {

// A domain whose stored totals differed from the recount.
struct Drift {
  std::string domain;
  CountCell before, after;
};

constexpr size_t kRecountStep = 5000;  // envelopes per reader-thread job: other reads interleave

std::string LogName(const std::string& domain) {
  return domain == kTotalsDomain ? ".total" : domain;  // the node total: no DNS name
}

bool SameCell(const CountCell& a, const CountCell& b) {
  return a.messages == b.messages && a.bytes == b.bytes && a.held == b.held;
}

}  // namespace

// One recount: the counters as of a snapshot, the envelopes of the same snapshot, and what
// they add up to. Members are destroyed in reverse: the iterator before its snapshot.
struct RocksDbQueueStore::Recount {
  std::unique_ptr<rocksdb::ManagedSnapshot> snapshot;
  std::map<std::string, DomainCounts> stored;  // counters_ as of the snapshot
  std::unique_ptr<rocksdb::Iterator> it;
  CountDelta counted;  // (domain, bucket) -> cell, from the envelopes
  uint64_t envelopes = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::function<void(std::vector<std::string>)> done;
};

// The snapshot is taken on the writer thread between two batches, so it and the counters
// copied with it describe the same state; the correction is a delta, so the writes applied
// after the snapshot stay counted.
void RocksDbQueueStore::RepairCounts(std::function<void(std::vector<std::string>)> done) {
  {
    std::lock_guard lk(repair_mu_);
    repair_done_ = std::move(done);
  }
  // The caller's callback runs under repair_mu_, so that after CancelRepair it never runs.
  auto deliver = [this](std::vector<std::string> repaired) {
    std::lock_guard lk(repair_mu_);
    if (!repair_done_) return;
    auto fn = std::move(repair_done_);
    repair_done_ = nullptr;
    fn(std::move(repaired));
  };
  SubmitBarrier([this, deliver](Status) mutable {
    auto r = std::make_shared<Recount>();
    r->done = std::move(deliver);
    r->snapshot = std::make_unique<rocksdb::ManagedSnapshot>(db_.get());
    {
      std::lock_guard lk(cmu_);
      r->stored = counters_.domains();
    }
    PostRead([this, r] { RecountStep(r); });
  });
}

void RocksDbQueueStore::CancelRepair() {
  std::lock_guard lk(repair_mu_);
  repair_done_ = nullptr;
}

void RocksDbQueueStore::RecountStep(std::shared_ptr<Recount> r) {
  {
    std::lock_guard lk(rmu_);
    if (rstop_) return;  // closing: the snapshot is released with `r`
  }
  if (!r->it) {
    rocksdb::ReadOptions ro;
    ro.snapshot = r->snapshot->snapshot();
    ro.fill_cache = false;
    r->it.reset(db_->NewIterator(ro, envelopes_));
    r->it->SeekToFirst();
  }
  for (size_t n = 0; r->it->Valid() && n < kRecountStep; r->it->Next(), ++n) {
    auto env = DecodeEnvelope(std::string_view(r->it->value().data(), r->it->value().size()));
    if (!env || env->id != r->it->key().ToString()) continue;  // quarantined at next start
    AddContribution(*env, +1, &r->counted);
    ++r->envelopes;
  }
  if (!r->it->status().ok()) {
    log::Error("counters_check_failed").kv("reason", FromRocks(r->it->status()).message());
    if (r->done) r->done({});
    return;
  }
  if (r->it->Valid()) {
    PostRead([this, r] { RecountStep(r); });  // behind the reads queued meanwhile
    return;
  }
  FinishRecount(std::move(r));
}

// Compares each domain's recount with its stored cells (messages, bytes, held per arrival
// bucket) and writes the difference for the domains that drifted, in one batch.
void RocksDbQueueStore::FinishRecount(std::shared_ptr<Recount> r) {
  std::map<std::string, DomainCounts> counted;
  for (const auto& [key, cell] : r->counted) {
    DomainCounts& dc = counted[key.first];
    dc.buckets[key.second].Add(cell);
    dc.total.Add(cell);
  }
  std::set<std::string> names;
  for (const auto& [name, c] : counted) names.insert(name);
  for (const auto& [name, c] : r->stored) names.insert(name);
  static const DomainCounts kNone;
  CountDelta fix;
  std::vector<Drift> drifts;  // logged once the difference is on disk
  for (const auto& name : names) {
    auto s = r->stored.find(name);
    auto c = counted.find(name);
    const DomainCounts& have = s != r->stored.end() ? s->second : kNone;
    const DomainCounts& want = c != counted.end() ? c->second : kNone;
    std::set<int64_t> buckets;
    for (const auto& [b, cell] : have.buckets) buckets.insert(b);
    for (const auto& [b, cell] : want.buckets) buckets.insert(b);
    bool drift = false;
    for (int64_t b : buckets) {
      auto hb = have.buckets.find(b);
      auto wb = want.buckets.find(b);
      CountCell h = hb != have.buckets.end() ? hb->second : CountCell{};
      CountCell w = wb != want.buckets.end() ? wb->second : CountCell{};
      if (SameCell(h, w)) continue;
      drift = true;
      CountCell d;
      d.messages = w.messages - h.messages;
      d.bytes = w.bytes - h.bytes;
      d.held = w.held - h.held;
      d.min_arrival_ms = w.min_arrival_ms;
      fix[{name, b}] = d;
    }
    if (!drift) continue;
    drifts.push_back({name, have.total, want.total});
  }
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - r->started)
                   .count();
  log::Info("counters_checked")
      .kv("domains", names.size())
      .kv("repaired", drifts.size())
      .kv("envelopes", r->envelopes)
      .kv("ms", ms);
  auto done = std::move(r->done);
  r.reset();  // the snapshot is not needed for the write
  if (fix.empty()) {
    if (done) done({});
    return;
  }
  SubmitFix(std::move(fix), [done = std::move(done), drifts = std::move(drifts)](Status st) {
    std::vector<std::string> repaired;  // the domains whose correction is on disk
    if (!st.ok()) {
      log::Error("counters_repair_failed").kv("reason", st.message());
      if (done) done({});
      return;
    }
    for (const Drift& d : drifts) {
      log::Warn("counters_repaired")
          .kv("domain", LogName(d.domain))
          .kv("before", d.before.messages)
          .kv("after", d.after.messages)
          .kv("bytes_before", d.before.bytes)
          .kv("bytes_after", d.after.bytes);
      if (d.domain != kTotalsDomain) repaired.push_back(d.domain);
    }
    if (done) done(std::move(repaired));
  });
}

}  // namespace sw::queue
