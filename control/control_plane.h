// Owns the control plane's live state: resellers, customers, tokens and provisioned domains
// in memory (loaded from a ControlStore), who sees what, atomic audited writes, and the
// effective domain table published to the SMTP path. Fails by Status; never throws.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/metrics.h"
#include "control/control_store.h"
#include "control/records.h"

namespace sw::control {

// Everything one API write changes; applied all or nothing.
struct Mutation {
  struct Audit {
    std::string action;  // "domain.create", "token.revoke", ...
    std::string object;  // the object's ID or domain name
    boost::json::object changes;
    std::string reseller, customer;  // whose subtree the entry belongs to
  };
  std::vector<Reseller> resellers;
  std::vector<std::string> delete_resellers;
  std::vector<Customer> customers;
  std::vector<std::string> delete_customers;
  std::vector<DomainRecord> domains;  // state kDeleted: a tombstone (queued mail still drains)
  std::vector<Token> tokens;
  std::vector<std::string> delete_tokens;
  std::vector<Audit> audit;
};

// Receives each new effective config (file config + provisioned domains).
using PublishFn = std::function<void(std::shared_ptr<const config::Config>)>;

// Runs on one io_context thread (the admin API's and the SMTP sessions').
class ControlPlane {
 public:
  ControlPlane(boost::asio::io_context& io, ControlStore& store,
               std::shared_ptr<const config::Config> file_config, PublishFn publish);
  ~ControlPlane();
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  // Reads every record; the effective config is then available at once (no publish).
  Status Load();
  // Cluster mode (SPEC section 13), after Load on the io thread: follows what other nodes write
  // through the store's watch (ControlStore::WatchChanges). On a change version above the one
  // in memory, tenants, tokens and domains are read again on a thread of this object's and
  // swapped in on the io thread, the domain table published at once; versions of this node's
  // own writes cause nothing. Tracks whether the store answers (StoreUp, gauge
  // spamweeder_control_store_up, events control_store_unavailable / control_store_restored)
  // and writes tokens' last use off the io thread. An embedded store has nothing to watch.
  void StartWatching();
  void StopWatching();  // joins the threads; the destructor calls it
  bool StoreUp() const { return store_up_.load(std::memory_order_relaxed); }
  // Every change to tenants, tokens and domains up to this version is in memory.
  uint64_t applied_version() const { return applied_version_; }
  // How this node has followed the others: reads of only the changed records (the store's
  // change log) and full reads (no log, or the log no longer reaches back far enough).
  struct FollowStats {
    uint64_t change_reads = 0;
    uint64_t records_changed = 0;  // records those reads brought
    uint64_t full_reads = 0;
  };
  const FollowStats& follow_stats() const { return follow_stats_; }
  // SIGHUP: a new config file; publishes the merged table at once.
  void SetFileConfig(std::shared_ptr<const config::Config> file_config);
  std::shared_ptr<const config::Config> Effective() const { return effective_; }
  std::shared_ptr<const config::Config> file_config() const { return file_config_; }
  ControlStore& store() { return store_; }  // alert plane records (admin/alert_api)
  // Resellers and customers for readers on other threads (the alert engine): a new snapshot
  // after every change to them, also handed to `fn` when set.
  std::shared_ptr<const TenantSnapshot> Tenants() const { return tenants_; }
  void SetTenantsListener(std::function<void(std::shared_ptr<const TenantSnapshot>)> fn) {
    tenants_listener_ = std::move(fn);
  }

  // The principal of an `sw_...` token; nullopt when unknown or revoked. Records the use.
  std::optional<Principal> Authenticate(std::string_view token);
  // The principal of the token whose SHA-256 is `hash` (a portal session re-checks its token
  // on every request: a revoked token ends its sessions). Records nothing.
  std::optional<Principal> PrincipalForTokenHash(const std::string& hash) const;
  static Principal OperatorPrincipal();

  // Scope: true when the object is `p`'s account or below it.
  bool SeesReseller(const Principal& p, const std::string& id) const;
  bool SeesCustomer(const Principal& p, const std::string& id) const;
  bool SeesDomain(const Principal& p, const std::string& name) const;
  bool SeesAccount(const Principal& p, const std::string& account) const;
  bool SeesAudit(const Principal& p, const boost::json::object& entry) const;

  const Reseller* FindReseller(const std::string& id) const;
  const Customer* FindCustomer(const std::string& id) const;
  const Token* FindToken(const std::string& id) const;
  // A live (not deleted) domain, config-file ones included (as read-only records).
  std::optional<DomainRecord> FindDomain(const std::string& name) const;
  const std::map<std::string, Reseller>& resellers() const { return resellers_; }
  const std::map<std::string, Customer>& customers() const { return customers_; }
  const std::map<std::string, Token>& tokens() const { return tokens_; }
  // Live domains in name order (config-file ones included) for which `keep` is true, after
  // `after`, at most `limit`.
  std::vector<DomainRecord> ListDomains(const std::string& after, size_t limit,
                                        const std::function<bool(const DomainRecord&)>& keep) const;
  // The reseller of a domain's customer ("" for direct customers and the operator's).
  std::string ResellerOf(const config::DomainConfig& d) const;
  // Live domains counted against `reseller`'s plan.
  uint64_t DomainsOf(const std::string& reseller) const;
  // Whether a customer or reseller still owns something (delete is refused then).
  bool HasChildren(const std::string& account) const;

  // Writes `m` (one synced store commit), then applies it in memory; the domain table is
  // published at once, or within kPublishDelay during a burst of writes. Each audit entry gets a
  // seq (ControlStore::ReserveAuditSeqs), this node's name (cluster.node), the actor and client IP.
  Status Apply(const Principal& actor, const std::string& client_ip, Mutation m);
  // Audit entries visible to `p` from `from` (oldest first after a seq, or newest first).
  Status ReadAudit(const Principal& p, AuditCursor from, size_t limit,
                   std::vector<boost::json::object>* out);

  // "r_" / "c_" / "t_" + 16 random hex digits.
  static std::string NewId(const char* prefix);
  // A new token text: "sw_" + 43 URL-safe base64 characters (32 random bytes).
  static std::string NewTokenText();
  // `bytes` random bytes as URL-safe base64 without padding (tokens, portal sessions).
  static std::string RandomUrlSafe(size_t bytes);
  static std::string HashToken(std::string_view token);  // hex SHA-256
  static int64_t NowMs();

  static constexpr auto kPublishDelay = std::chrono::milliseconds(50);

 private:
  void SchedulePublish();
  void PublishNow();
  std::shared_ptr<const config::Config> Build() const;

  // Tenants, tokens and domains as read from the store.
  struct Records {
    std::map<std::string, Reseller> resellers;
    std::map<std::string, Customer> customers;
    std::map<std::string, Token> tokens;
    std::unordered_map<std::string, std::string> token_by_hash;
    std::map<std::string, DomainRecord> domains;
    size_t unreadable = 0;
  };
  static Status ReadRecords(ControlStore& store, Records* out);
  void TakeRecords(Records&& r);
  // control_plane_sync.cc: the watch, on the io thread unless said otherwise.
  void OnWatchEvent(const ControlStore::WatchEvent& e);
  void NoteOwnVersion(uint64_t version);  // after a local commit
  void MaybeReload();
  void Reloaded(std::shared_ptr<Records> r, uint64_t version, Status st, int64_t ms);
  // Worker thread: the records changed since `from` when the store's log has them, else all.
  void ReadFrom(uint64_t from);
  void ChangesRead(std::shared_ptr<std::vector<RecordChange>> changes, uint64_t version,
                   int64_t ms);
  bool ApplyRecord(const RecordChange& change);  // false: unreadable (logged)
  void PostToIo(std::function<void()> fn);       // any thread
  bool PostToWorker(std::function<void()> job);  // any thread; false when none runs
  void WorkerLoop();

  boost::asio::io_context& io_;
  ControlStore& store_;
  std::shared_ptr<const config::Config> file_config_;
  std::shared_ptr<const config::Config> effective_;
  std::shared_ptr<const TenantSnapshot> tenants_ = std::make_shared<TenantSnapshot>();
  std::function<void(std::shared_ptr<const TenantSnapshot>)> tenants_listener_;
  void RebuildTenants();
  PublishFn publish_;
  boost::asio::steady_timer publish_timer_;
  bool publish_pending_ = false;
  std::chrono::steady_clock::time_point last_publish_{};
  std::map<std::string, Reseller> resellers_;
  std::map<std::string, Customer> customers_;
  std::map<std::string, Token> tokens_;
  std::unordered_map<std::string, std::string> token_by_hash_;
  std::map<std::string, DomainRecord> domains_;  // API domains, tombstones included

  std::atomic<bool> store_up_{true};
  bool reloading_ = false;
  uint64_t applied_version_ = 0;  // every change up to it is in memory
  uint64_t newest_version_ = 0;   // the highest change version seen
  FollowStats follow_stats_;
  metrics::CallbackHandle up_gauge_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // io handlers posted from threads
  std::thread worker_;                                     // reloads and last-use writes
  std::mutex worker_mu_;
  std::condition_variable worker_cv_;
  std::deque<std::function<void()>> jobs_;
  bool worker_stop_ = false;
  bool worker_running_ = false;  // under worker_mu_
};

}  // namespace sw::control
