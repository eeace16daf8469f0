// Owns the relay queue's next-attempt index reader: deferred messages come back when due.
// Fails soft: a failed read is retried; a message it cannot re-admit waits on disk.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <utility>

#include "common/log.h"
#include "queue/relay_queue.h"
#include "queue/store_await.h"

namespace sw::queue {

namespace asio = boost::asio;

namespace {

constexpr size_t kRetryBatch = 1000;      // index entries per read
constexpr int64_t kRetryFailedMs = 1000;  // a failed read is tried again after this

}  // namespace

// Design: a message deferred for longer than kMemoryRetryMs while its domain is up leaves
// memory; its envelope's next_attempt_ms, written in the same batch as its by_retry keys, is
// its only schedule. This reader walks by_retry in due order from a cursor, at most the room
// the active set has, and puts each due (message, domain) into that domain's ready set. The
// cursor only moves forward: every key written later has a later due time (a deferral is
// due after `now`; flush, release and hold remove keys instead). After a restart the cursor
// starts empty: what fell due meanwhile goes first, the rest at its due time. A window read
// (arrival order) skips a message due later than one probe away, so nothing comes back early.
void RelayQueue::ArmRetry(int64_t due_ms) {
  if (stopped_) return;
  if (retry_reading_) {  // the running read arms the timer when it ends
    if (retry_asked_ == 0 || due_ms < retry_asked_) retry_asked_ = due_ms;
    return;
  }
  if (retry_at_ != 0 && retry_at_ <= due_ms) return;
  retry_at_ = due_ms;
  retry_.expires_after(std::chrono::milliseconds(std::max<int64_t>(0, due_ms - NowMs())));
  retry_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    retry_at_ = 0;
    asio::co_spawn(io_, ReadRetries(), asio::detached);
  });
}

asio::awaitable<void> RelayQueue::ReadRetries() {
  if (retry_reading_ || stopped_) co_return;
  size_t room =
      config_->queue.active_limit - std::min<size_t>(messages_.size(), config_->queue.active_limit);
  if (room == 0) {
    retry_starved_ = true;  // WakeStarved reads on when a slot frees
    co_return;
  }
  retry_reading_ = true;
  retry_asked_ = 0;
  int64_t now = NowMs();
  std::string after = retry_cursor_;
  DuePage page;
  {
    ReadScope scope(this);
    page = co_await AwaitDue([&](std::function<void(DuePage)> done) {
      store_.ReadDue(after, now, std::min(room, kRetryBatch), std::move(done));
    });
    retry_reading_ = false;
    if (stopped_) co_return;
    if (retry_asked_ != 0) ArmRetry(std::exchange(retry_asked_, 0));
    if (!page.status.ok()) {
      log::Error("retry_read_failed").kv("reason", page.status.message());
      ArmRetry(NowMs() + kRetryFailedMs);
      co_return;
    }
    retry_cursor_ = page.last_key;
    size_t taken = page.due.size();
    for (auto& due : page.due) Readmit(std::move(due), now);
    if (taken > 0) log::Info("retries_due").kv("messages", taken).kv("active", messages_.size());
  }  // the read's scope ends: entries it left aside may be evicted now
  if (page.next_due_ms != 0 && page.next_due_ms <= now) {
    if (HasRoom())
      ArmRetry(NowMs());
    else
      retry_starved_ = true;
  } else if (page.next_due_ms != 0) {
    ArmRetry(page.next_due_ms);
  }
}

// One due (message, domain): into the domain's ready set unless something else owns it now.
void RelayQueue::Readmit(DueRetry&& due, int64_t now) {
  Entry* e = Fetch(std::move(due.env));  // memory is newer than the read
  if (!e) return;                        // finished while the read ran
  std::string id = e->env.id;
  bool pending = false;
  for (const auto& r : e->env.recipients)
    if (r.domain == due.domain && r.state == RcptState::kPending) pending = true;
  // Held, or a newer deferral (its own key comes later): not now. One on a short timer in
  // memory for another domain is scheduled here all the same (a set: never twice).
  bool skip = !pending || e->env.held || e->env.next_attempt_ms > now;
  DomainState* d = skip ? nullptr : Domain(due.domain);
  // A down domain's window takes it after the probe; a range action restarts the window.
  if (d && (!d->up || d->bulk || d->inflight.count(id))) skip = true;
  if (skip) {
    MaybeEvict(id);
    return;
  }
  Schedule(id, due.domain, 0);
}

// Domains whose counters were repaired: one that had mail on disk but no count was never
// read at startup; its window is read now.
void RelayQueue::OnCountsRepaired(const std::vector<std::string>& domains) {
  for (const auto& name : domains) {
    DomainState* d = Domain(name);
    if (!d || d->on_disk) continue;
    d->cursor.clear();  // from its oldest message (those in the window are not taken twice)
    d->on_disk = true;
    d->appended = true;  // a read running now does not end the window's disk part
    Refill(*d);
  }
}

}  // namespace sw::queue
