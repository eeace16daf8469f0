// Owns the relay queue's scheduling: bounded in-memory windows over the on-disk queue.
// Fails soft: errors defer, never drop, mail.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "queue/dsn.h"
#include "queue/envelope.h"
#include "queue/queue_id.h"
#include "queue/queue_observer.h"
#include "queue/queue_store.h"
#include "queue/store_await.h"
#include "routing/destination.h"

namespace sw::queue {

// Builds the destination of a domain; an empty destination list means "find it by MX".
using DestinationFactory =
    std::function<std::unique_ptr<routing::Destination>(const config::DomainConfig&)>;

struct RelayStats {
  uint64_t accepted = 0, delivered = 0, deferred = 0, bounced = 0, expired = 0;
  uint64_t dsn_sent = 0;
};

// Per-domain view for `queue summary`, the dashboard and /metrics.
struct DomainSummary {
  std::string domain;
  uint64_t messages = 0;  // with pending recipients for this domain
  uint64_t bytes = 0;
  int64_t oldest_arrival_ms = 0;  // 0: empty
  // Age buckets: < 5m, < 1h, < 4h, < 1d, < 7d, >= 7d.
  uint64_t age_buckets[6] = {0, 0, 0, 0, 0, 0};
  bool up = true;
  uint64_t held = 0;
};

// The whole node's queue for its cluster heartbeat (`spamweeder cluster status`): each message
// counted once however many domains it waits for.
struct QueueTotals {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  int64_t oldest_arrival_ms = 0;  // 0: empty
  uint64_t held = 0;
  uint64_t domains_down = 0;  // domains whose deliveries fail and are probed
};

// Operator actions of the admin API.
enum class QueueAction { kFlush, kHold, kRelease, kDelete, kBounce };

// Runs entirely on one io_context thread.
class RelayQueue {
 public:
  RelayQueue(boost::asio::io_context& io, QueueStore& store,
             std::shared_ptr<const config::Config> config, DestinationFactory factory);
  ~RelayQueue();

  // Startup in constant time: reads the persisted counters and domain states, never the
  // envelopes; each domain's window then streams from disk in the background.
  Status Load();

  // Makes `env` durable (sync) and schedules its first delivery. The body is kept in memory
  // for that delivery when the cache has room. Fills env.id. Returns the store's status.
  boost::asio::awaitable<Status> Accept(Envelope env, std::shared_ptr<const std::string> body,
                                        std::string* id);
  std::string NewId() { return ids_.Next(); }
  // SIGHUP: new domains and destinations apply to the next attempt; deliveries in flight
  // finish on the destination objects they started with.
  void SetConfig(std::shared_ptr<const config::Config> config);

  // Stops timers and probes; deliveries in flight finish or are abandoned with io_context.
  void Stop();
  // Receives domain up/down and delivery events of customer domains (not of DSN targets).
  // Set before Load (which reports domains still down from the last run); may be null.
  void SetObserver(QueueObserver* observer) { observer_ = observer; }

  // Messages queued (from the store's counters; each once however many domains it waits for).
  size_t size() const;
  // Envelopes in memory now (bounded by queue.active_limit plus deliveries in flight).
  size_t active() const { return messages_.size(); }
  // True while deliveries to `domain` fail and it is probed (recipient callouts then skip it).
  bool DomainDown(const std::string& domain) const {
    auto it = domains_.find(domain);
    return it != domains_.end() && !it->second.up;
  }
  const RelayStats& stats() const { return stats_; }
  // Probes a domain that is down now instead of at its next probe_interval (cluster mode:
  // another node saw it recover); nothing when it is up or unknown.
  void ProbeNow(const std::string& domain);

  // --- Admin API (same io_context thread). Listing never reads bodies.
  // Messages in ID (arrival) order after `after` (exclusive, "" from the start), at most
  // `limit`, only those with a pending recipient in `domain` when it is not empty: read from
  // the store by key (the domain index), off the event loop.
  boost::asio::awaitable<std::vector<Envelope>> List(std::string domain, size_t limit,
                                                     std::string after);
  boost::asio::awaitable<std::optional<Envelope>> Find(std::string id);
  // O(domains): from the counters the store keeps with every write (ages approximate to
  // kCountBucketMs, see queue_counters.h).
  std::vector<DomainSummary> Summary() const;
  QueueTotals Totals() const;
  // Acts on one message: kNotFound if unknown. Hold/release/delete are synced to disk.
  boost::asio::awaitable<Status> Act(const std::string& id, QueueAction action);
  // Acts on every message with pending recipients in a domain (flush, hold, release, delete,
  // bounce): a range walk of the domain index in batches, each one group-committed write off
  // the event loop (bounce: one DSN per message); returns how many.
  boost::asio::awaitable<size_t> ActOnDomain(const std::string& domain, QueueAction action);
  // Reads a queued message's body (for `queue show`).
  boost::asio::awaitable<std::tuple<Status, std::shared_ptr<const std::string>>> Body(
      const std::string& id);

 private:
  struct Entry {
    Envelope env;
    std::shared_ptr<const std::string> body;  // cached body, may be null
    int inflight = 0;                         // deliveries running for this message
  };
  struct DomainState {
    std::string name;
    std::shared_ptr<routing::Destination> dest;
    std::set<std::string> ready;     // IDs eligible now, ordered = arrival order
    std::set<std::string> inflight;  // IDs being delivered to this domain now
    std::string cursor;              // last ID taken from the domain index into the window
    bool on_disk = false;            // pending messages after `cursor` are not loaded yet
    bool refilling = false;          // a window read is running
    bool appended = false;           // a message was left on disk during that read
    bool bulk = false;               // an operator's range action runs: no refills
    uint64_t window_gen = 0;         // bumped when the window restarts: older reads are void
    bool up = true;
    uint64_t probe_gen = 0;  // bumped on every up/down change; stale probe loops exit
    bool external = false;   // not a customer domain: DSNs via outbound_relay
    uint32_t active = 0;
    int64_t idle_since_ms = 0;  // last activity, or the latest retry waiting for it (eviction)
    std::unique_ptr<boost::asio::steady_timer> probe_timer;
  };

  // One delivery attempt's outcome, as DeliverOne's parts pass it along.
  struct Attempt {
    std::string id, domain;
    int64_t now = 0;
    bool transient = false;      // something is to be retried
    bool delivered = false;      // some recipient was delivered
    std::vector<size_t> failed;  // recipients (index into env.recipients) that failed
  };

  DomainState* Domain(const std::string& name);
  DomainState* Existing(const std::string& name);  // never creates one
  // Eviction of idle external domains (relay_queue_evict.cc).
  void ArmEvict();
  void EvictIdle();
  routing::OutboundMessage Outbound(const std::string& id, const std::string& domain,
                                    std::shared_ptr<const std::string> body,
                                    std::vector<size_t>* index) const;
  void RecordReplies(Entry& e, const std::vector<size_t>& index, const routing::DeliveryResult& res,
                     Attempt& a);
  void AfterAttempt(const Attempt& a);
  void Schedule(const std::string& id, const std::string& domain, int64_t when_ms);
  void Dispatch(DomainState& d);
  boost::asio::awaitable<void> DeliverOne(std::string id, std::string domain);
  boost::asio::awaitable<void> ProbeLoop(std::string domain, uint64_t gen, bool now = false);
  void ArmWake();
  void OnWake();
  void Finish(const std::string& id);
  void MarkDown(DomainState& d, const std::string& id, const std::string& reason);
  void MarkUp(DomainState& d, const std::string& relay);
  void Unschedule(const Envelope& env);
  void ScheduleAllPending(const std::string& id, int64_t when_ms);
  // Fails the given recipients (index into env.recipients) and queues one DSN for them.
  void FailRecipients(const std::string& id, const std::vector<size_t>& which,
                      const std::string& status, const std::string& reason);
  boost::asio::awaitable<void> SendDsn(std::string id, std::vector<DsnRecipient> rcpts,
                                       bool delayed);
  void ArmSweep();
  boost::asio::awaitable<void> Sweep();
  Backlog BacklogOf(const DomainState& d) const;
  void CacheBody(Entry& e, std::shared_ptr<const std::string> body);
  void DropBody(Entry& e);
  // --- The active window (relay_queue_window.cc).
  uint32_t WindowSize() const;
  bool HasRoom() const;
  void Refill(DomainState& d);
  boost::asio::awaitable<void> RefillLoop(std::string domain);
  void TakeIntoWindow(DomainState& d, Envelope&& env, int64_t now);
  // Store reads are counted: while one runs, entries are not evicted (its copy could be
  // older) and finished IDs are remembered (its copy would bring them back).
  // A coroutine frame may outlive the queue (destroyed with the io_context at exit).
  struct ReadScope {
    explicit ReadScope(RelayQueue* q) : q(q), alive(q->alive_) { ++q->reads_; }
    ~ReadScope() {
      if (*alive) q->EndRead();
    }
    RelayQueue* q;
    std::shared_ptr<bool> alive;
  };
  void EndRead();
  Entry* Fetch(Envelope&& env);  // memory wins; else loads (unless removed during the read)
  boost::asio::awaitable<Entry*> FetchById(const std::string& id);
  void MaybeEvict(const std::string& id);
  void DropWindow(DomainState& d);
  void WakeStarved();
  // One attempt's send (DeliverOne's first half) and judgement of the result.
  struct Sent {
    std::shared_ptr<const std::string> body;
    std::vector<size_t> index;
    routing::OutboundMessage msg;
    routing::DeliveryResult res;
  };
  boost::asio::awaitable<void> Send(const std::string& id, const std::string& domain, Sent* out);
  void Judge(Entry& e, DomainState& d, const Sent& s, Attempt& a);
  boost::asio::awaitable<size_t> ActOnBatch(const std::string& domain, QueueAction action,
                                            std::vector<Envelope>& envs);
  boost::asio::awaitable<size_t> RemoveBatch(const std::string& domain, QueueAction action,
                                             std::vector<Envelope>& envs);
  boost::asio::awaitable<void> SweepSome();
  // --- The next-attempt index (relay_queue_retry.cc): deferred messages wait on disk.
  void ArmRetry(int64_t due_ms);
  boost::asio::awaitable<void> ReadRetries();
  void Readmit(DueRetry&& due, int64_t now);
  void OnCountsRepaired(const std::vector<std::string>& domains);

  boost::asio::io_context& io_;
  QueueStore& store_;
  std::shared_ptr<const config::Config> config_;
  DestinationFactory factory_;
  QueueIdGenerator ids_;
  std::map<std::string, Entry> messages_;  // ordered by ID = arrival
  std::map<std::string, DomainState> domains_;
  std::multimap<int64_t, std::pair<std::string, std::string>> waiting_;  // due -> (id, dom)
  std::multiset<std::string> waiting_ids_;  // IDs with entries in waiting_ (kept in memory)
  int reads_ = 0;                           // store reads running
  std::set<std::string> gone_;              // finished while reads ran: a read's copy is stale
  std::vector<std::string> evict_later_;    // evictions put off until no read runs
  std::deque<std::string> starved_;         // domains waiting for room in the active set
  std::string sweep_cursor_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
  boost::asio::steady_timer wake_;
  boost::asio::steady_timer sweep_;
  boost::asio::steady_timer evict_;
  int64_t wake_at_ = 0;
  boost::asio::steady_timer retry_;  // the next read of the next-attempt index
  int64_t retry_at_ = 0;             // when it is armed for (0: not armed)
  std::string retry_cursor_;         // last index key re-admitted ("" from the start)
  bool retry_reading_ = false;       // a read runs
  int64_t retry_asked_ = 0;          // earliest due asked for while it ran (0: none)
  bool retry_starved_ = false;       // due entries wait for room in the active set
  // A deferral due sooner than this stays on a timer in memory (re-reading it from disk would
  // cost more than the slot it holds); a later one leaves memory for the next-attempt index.
  static constexpr int64_t kMemoryRetryMs = 2000;
  uint64_t cache_bytes_ = 0;
  uint64_t cache_limit_ = 64ull << 20;
  static constexpr size_t kHotBacklog = 256;  // ready messages beyond this are not cached
  bool stopped_ = false;
  QueueObserver* observer_ = nullptr;
  RelayStats stats_;
};

int64_t NowMs();

}  // namespace sw::queue
