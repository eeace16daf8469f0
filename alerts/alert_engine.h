// Owns outage alerts (SPEC section 11): per-domain outage tracking from the queue's events
// (grace, still_down repeats, flap damping), events written once to the store with their
// outbox, and the outbox's delivery with retries on email, SMS and webhook channels; also
// the status history and the usage flush. Runs on a thread of its own; never blocks the
// queue's. Fails soft: a channel error retries until alerts.retry_for, a store error is logged
// and the event retried on the next timer.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "alerts/alert_event.h"
#include "alerts/shared_outage.h"
#include "common/http_client.h"
#include "common/metrics.h"
#include "common/status.h"
#include "common/usage_counters.h"
#include "config/config.h"
#include "control/control_store.h"
#include "control/records.h"
#include "queue/envelope.h"
#include "queue/queue_observer.h"

namespace sw::alerts {

class UsageRecorder;

// Queues one email in the relay queue; `done` may be called on any thread.
using EnqueueDone = std::function<void(Status st, std::string queue_id)>;
using EnqueueFn = std::function<void(queue::Envelope env, std::shared_ptr<const std::string> body,
                                     EnqueueDone done)>;

class AlertEngine : public queue::QueueObserver {
 public:
  AlertEngine(control::ControlStore& store, usage::UsageCounters& counters, EnqueueFn enqueue,
              std::string node);
  ~AlertEngine() override;
  AlertEngine(const AlertEngine&) = delete;
  AlertEngine& operator=(const AlertEngine&) = delete;

  // Cluster mode (before Start): outages are shared with the other nodes through the store
  // (alert_engine_cluster.cc); `probe_now` asks this node's queue, from any thread, to probe a
  // domain at once (another node saw it recover).
  void EnableCluster(std::function<void(const std::string& domain)> probe_now);
  // Reads open outages and the outbox, then runs. Call before the queue's Load.
  Status Start(std::shared_ptr<const config::Config> config,
               std::shared_ptr<const control::TenantSnapshot> tenants);
  // After the queue's Load: outages the queue no longer reports end now.
  void Reconcile();
  // Any thread.
  void SetConfig(std::shared_ptr<const config::Config> config);
  void SetTenants(std::shared_ptr<const control::TenantSnapshot> tenants);
  // A `test` event for every channel of the customer's contacts (one contact when given);
  // returns its ID at once, the event is made on the engine's thread.
  std::string SendTest(const std::string& customer, std::optional<size_t> contact);
  // Flushes usage, stops timers and sends in flight (the outbox keeps them), joins the thread.
  void Stop();

  // QueueObserver: called on the queue's thread, posted to ours.
  void DomainDown(const std::string& domain, int64_t at_ms, const std::string& error,
                  const queue::Backlog& backlog, bool restored) override;
  void DomainUp(const std::string& domain, int64_t at_ms, const std::string& relay,
                const queue::Backlog& backlog) override;
  void ProbeFailed(const std::string& domain, const std::string& error,
                   const queue::Backlog& backlog) override;
  void Delivered(const std::string& domain, uint64_t bytes, uint64_t remaining) override;
  void Deferred(const std::string& domain) override;

 private:
  // The engine's view of one domain.
  struct Tracked {
    DomainAlertState s;       // persisted as "s/<domain>" ("s/<node>/<domain>" in a cluster)
    bool queue_down = false;  // the queue reports it down now
    queue::Backlog backlog;
    bool up_pending = false;  // recovered after a `down` alert; `up` waits for the drain
    int64_t up_at_ms = 0;
    uint64_t delivered_since_up = 0;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  // Lets other threads post to the engine only while it runs.
  struct Mailbox {
    std::mutex mu;
    boost::asio::io_context* io = nullptr;
  };
  void Post(std::function<void()> fn);
  std::shared_ptr<const config::Config> Config() const;
  std::shared_ptr<const control::TenantSnapshot> Tenants() const;

  // Outage state machine (engine thread).
  Tracked& Track(const std::string& domain);
  void Untrack(const std::string& domain);
  void OnDown(const std::string& domain, int64_t at_ms, const std::string& error,
              const queue::Backlog& backlog, bool restored);
  void OnUp(const std::string& domain, int64_t at_ms, const std::string& relay,
            const queue::Backlog& backlog);
  void Evaluate(const std::string& domain);
  void Arm(const std::string& domain, int64_t due_ms);
  void EmitUp(const std::string& domain);
  void OpenPeriod(Tracked& t, const std::string& domain, const std::string& state, int64_t from_ms,
                  const std::string& detail, control::ChangeSet* cs);
  bool SaveState(const std::string& domain, Tracked& t, control::ChangeSet cs);

  // Cluster mode (engine thread, alert_engine_cluster.cc).
  bool OpenShared(const std::string& domain, Tracked& t, int64_t now);
  void JoinShared(const std::string& domain, Tracked& t, const SharedOutage& o);
  void RecoverShared(const std::string& domain, Tracked& t, int64_t at_ms,
                     const std::string& relay);
  void DeliveredShared(const std::string& domain, uint64_t remaining);
  void ClosedElsewhere(const std::string& domain, const SharedOutage& o);
  void ReconcileShared();
  void ArmHealthPoll();
  void PollHealth();
  std::string StateKeyOf(const std::string& domain) const;

  // Events and the outbox (engine thread).
  bool Emit(AlertEvent e, Tracked* t, const std::string& contact_filter_customer,
            std::optional<size_t> only_contact);
  // The event's fields and deliveries, its record and outbox items in `cs` and `items`.
  void Prepare(AlertEvent& e, Tracked* t, const std::string& customer,
               std::optional<size_t> only_contact, control::ChangeSet* cs,
               std::vector<std::pair<std::string, OutboxItem>>* items);
  void Made(const AlertEvent& e, bool applied,
            std::vector<std::pair<std::string, OutboxItem>>& items);
  void AddDeliveries(AlertEvent& e, std::optional<size_t> only_contact);
  void Schedule(const std::string& outbox_key, const OutboxItem& item);
  void ArmOutbox();
  void RunOutbox();
  void SendOne(const std::string& outbox_key);
  void OnSent(const std::string& outbox_key, bool ok, const std::string& error);
  void SendEmail(const std::string& key, const AlertEvent& e, const Delivery& d);
  void SendHttp(const std::string& key, http::HttpRequest req);
  std::optional<http::HttpRequest> SmsRequest(const AlertEvent& e, const Delivery& d);
  std::optional<http::HttpRequest> WebhookRequest(const AlertEvent& e, const Delivery& d);
  std::optional<AlertEvent> LoadEvent(const std::string& id);
  void ArmUsage();
  void CountDown(const std::string& domain, bool down);  // the per-reseller gauge
  std::string ResellerOfDomain(const std::string& domain) const;

  control::ControlStore& store_;
  usage::UsageCounters& counters_;
  EnqueueFn enqueue_;
  std::string node_;

  mutable std::mutex mu_;  // guards config_, tenants_
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<const control::TenantSnapshot> tenants_;
  std::map<std::string, uint64_t> down_per_reseller_;  // guarded by mu_; "-": the operator's
  metrics::CallbackHandle down_gauge_;

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::shared_ptr<Mailbox> mailbox_;
  std::thread thread_;
  bool started_ = false;

  std::map<std::string, std::unique_ptr<Tracked>> tracked_;
  std::map<std::string, OutboxItem> outbox_;  // key -> item
  std::multimap<int64_t, std::string> due_;   // next_ms -> outbox key
  std::map<std::string, bool> sending_;       // outbox keys in flight
  boost::asio::steady_timer outbox_timer_;
  int64_t outbox_at_ = 0;
  boost::asio::steady_timer usage_timer_;
  std::unique_ptr<UsageRecorder> usage_;
  std::string sms_token_;
  http::HttpClient http_;

  // Cluster mode only (null: the embedded store, one node).
  std::unique_ptr<SharedOutages> shared_;
  std::function<void(const std::string&)> probe_now_;
  std::map<std::string, SharedOutage> open_;  // the cluster's open outages at the last poll
  boost::asio::steady_timer health_timer_;
  bool health_failing_ = false;  // logged once per run of failed polls
};

}  // namespace sw::alerts
