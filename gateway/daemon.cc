// Owns the `serve` lifecycle: store, relay queue, SMTP listeners, signals (TERM, INT, HUP).
// Fails with an exit status: 1 runtime failure (store, bind), 2 config problem.
#include "gateway/daemon.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>
#include <thread>

#include "admin/admin_api.h"
#include "admin/admin_server.h"
#include "alerts/alert_engine.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/server_tls.h"
#include "common/usage_counters.h"
#include "config/config.h"
#include "control/control_plane.h"
#include "control/control_store_factory.h"
#include "control/node_heartbeat.h"
#include "control/snapshot_control_store.h"
#include "filters/filter_set.h"
#include "gateway/data_budget.h"
#include "gateway/disk_space.h"
#include "gateway/recipient_callout.h"
#include "gateway/smtp_server.h"
#include "queue/relay_queue.h"
#include "queue/rocksdb_queue_store.h"
#include "routing/connection_pool.h"
#include "routing/mx_destination.h"
#include "routing/mx_resolver.h"
#include "routing/smtp_destination.h"

namespace sw::gateway {

namespace asio = boost::asio;

namespace {

// An alert email into the relay queue (on the queue's thread); `done` reports the outcome.
asio::awaitable<void> AcceptAlert(queue::RelayQueue& relay, queue::Envelope env,
                                  std::shared_ptr<const std::string> body,
                                  alerts::EnqueueDone done) {
  std::string id;
  Status st = co_await relay.Accept(std::move(env), std::move(body), &id);
  done(st, id);
}

constexpr auto kShutdownGrace = std::chrono::seconds(30);

// The TLS contexts for `server.tls` or `admin.tls` (common/server_tls.h); null for none or on
// failure.
std::shared_ptr<ServerTls> MakeTls(const std::optional<config::TlsFiles>& files, std::string* err) {
  return files ? ServerTls::Build(*files, err) : nullptr;
}

// Cluster mode: this node's heartbeat (record n/<node>) for `spamweeder cluster status`, written
// off the event loop; null with the embedded store (one node, nobody to tell).
std::unique_ptr<control::NodeHeartbeat> StartHeartbeat(asio::io_context& io,
                                                       control::ControlStore& store,
                                                       const config::Config& cfg,
                                                       const queue::RelayQueue& relay) {
  if (cfg.cluster.store.empty()) return nullptr;
  control::NodeStatus base;
  base.node = cfg.cluster.node;
  base.hostname = cfg.server.hostname;
  base.version = SW_VERSION_STRING;
  base.started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  auto hb = std::make_unique<control::NodeHeartbeat>(
      io, store, std::move(base), cfg.cluster.heartbeat_interval, [&relay](control::NodeStatus& s) {
        queue::QueueTotals t = relay.Totals();
        s.messages = t.messages;
        s.bytes = t.bytes;
        s.oldest_arrival_ms = t.oldest_arrival_ms;
        s.held = t.held;
        s.domains_down = t.domains_down;
      });
  hb->Start();
  return hb;
}

// One `serve` process. Each Start step returns 0 or the exit status that ends the process;
// members are declared in start order, so they are destroyed in the reverse order.
class Daemon {
 public:
  explicit Daemon(std::string config_path) : config_path_(std::move(config_path)) {}
  ~Daemon() {
    if (loader_.joinable()) loader_.join();
  }

  int Run() {
    for (int (Daemon::*step)() :
         {&Daemon::LoadConfig, &Daemon::OpenStores, &Daemon::StartControl, &Daemon::StartFilters,
          &Daemon::StartQueue, &Daemon::StartListeners}) {
      if (int rc = (this->*step)()) return rc;
    }
    signals_ = std::make_unique<asio::signal_set>(io_, SIGTERM, SIGINT, SIGHUP);
    drain_ = std::make_unique<asio::steady_timer>(io_);
    AwaitSignal();
    io_.run();
    Finish();
    return 0;
  }

 private:
  int LoadConfig();      // cfg_, the TLS contexts, the log file
  int OpenStores();      // the queue's RocksDB and the control store
  int StartControl();    // alerts, the MX resolver, the control plane
  int StartFilters();    // the Premium pipeline when a domain filters at startup
  int StartQueue();      // the connection pool and the relay queue
  int StartListeners();  // SMTP and admin servers, the heartbeat
  void EnsureFilters(const std::shared_ptr<const config::Config>& c);
  void StartAlertsWhenConnected();
  void AwaitSignal();
  void OnSignal(int sig);
  void Reload();
  void WaitDrain();
  void Finish();

  std::string config_path_;
  std::shared_ptr<const config::Config> cfg_;
  std::shared_ptr<ServerTls> tls_;
  admin::AdminServerOptions admin_options_;
  std::unique_ptr<queue::RocksDbQueueStore> store_;
  control::SnapshotControlStore* snapshot_ = nullptr;  // cluster mode: the local copy
  std::unique_ptr<control::ControlStore> control_store_;
  asio::io_context io_{1};
  GatewayContext ctx_;
  std::unique_ptr<queue::RelayQueue> relay_;
  std::unique_ptr<filters::Pipeline> pipeline_;
  bool pipeline_loading_ = false;
  std::thread loader_;  // joined before returning
  usage::UsageCounters usage_counters_;
  std::unique_ptr<alerts::AlertEngine> alerts_;
  std::shared_ptr<routing::MxResolver> mx_resolver_;
  std::unique_ptr<control::ControlPlane> control_;
  std::shared_ptr<routing::ConnectionPool> shared_pool_;
  std::unique_ptr<DiskSpace> disk_;
  DataBudget data_budget_;
  metrics::CallbackHandle inflight_gauge_;
  std::unique_ptr<RecipientCallout> callout_;
  std::unique_ptr<SmtpServer> server_;
  std::unique_ptr<admin::AdminApi> admin_api_;
  std::unique_ptr<admin::AdminServer> admin_server_;
  std::unique_ptr<control::NodeHeartbeat> heartbeat_;
  std::unique_ptr<asio::signal_set> signals_;
  std::unique_ptr<asio::steady_timer> drain_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
};

int Daemon::LoadConfig() {
  try {
    cfg_ = std::make_shared<const config::Config>(config::LoadConfig(config_path_));
  } catch (const config::ConfigError& e) {
    for (const auto& p : e.problems()) std::cerr << p << "\n";
    return 2;
  }
  if (!log::SetFile(cfg_->log.file)) {
    std::cerr << config_path_ << ": cannot open log file " << cfg_->log.file << "\n";
    return 2;
  }
  std::string tls_err;
  tls_ = MakeTls(cfg_->server.tls, &tls_err);
  if (cfg_->server.tls && !tls_) {
    std::cerr << config_path_ << ": server.tls: " << tls_err << "\n";
    return 2;
  }
  admin_options_.tls = MakeTls(cfg_->admin.tls, &tls_err);
  if (cfg_->admin.tls && !admin_options_.tls) {
    std::cerr << config_path_ << ": admin.tls: " << tls_err << "\n";
    return 2;
  }
  return 0;
}

int Daemon::OpenStores() {
  Status st;
  store_ = queue::RocksDbQueueStore::Open(cfg_->queue.path, &st);
  if (!store_) {
    log::Error("fatal")
        .kv("reason", "cannot open queue")
        .kv("path", cfg_->queue.path)
        .kv("detail", st.message());
    return 1;
  }
  // The control plane (SPEC section 10): tenants, tokens, provisioned domains, audit.
  // Embedded RocksDB, or PostgreSQL shared by the cluster (`cluster.store`, SPEC section 13).
  std::string control_where = control::ControlStoreLocation(*cfg_);
  control_store_ = control::OpenNodeControlStore(*cfg_, &st, &snapshot_);
  if (!control_store_) {
    log::Error("fatal")
        .kv("reason", "cannot open control store")
        .kv("path", control_where)
        .kv("detail", st.message());
    return 1;
  }
  log::Info("control_store_opened")
      .kv("kind", cfg_->cluster.store.empty() ? "embedded" : "postgresql")
      .kv("path", control_where)
      .kv("node", cfg_->cluster.node);
  return 0;
}

// SpamWeeder Premium scanners, built when a domain first filters (at startup, or later when
// filtering is switched on through the API or a reload), on a thread of their own so that
// loading the ClamAV database never stalls the event loop.
void Daemon::EnsureFilters(const std::shared_ptr<const config::Config>& c) {
  if (pipeline_ || pipeline_loading_ || !filters::AnyDomainFilters(*c)) return;
  pipeline_loading_ = true;
  log::Info("filters_loading");
  if (loader_.joinable()) loader_.join();
  loader_ = std::thread([this, c] {
    std::string err;
    auto built = filters::BuildPipeline(*c, &err);
    auto shared = std::make_shared<std::unique_ptr<filters::Pipeline>>(std::move(built));
    asio::post(io_, [this, shared, err] {
      pipeline_loading_ = false;
      if (!*shared) {
        log::Error("filters_failed").kv("detail", err);
        return;
      }
      pipeline_ = std::move(*shared);
      ctx_.filters = pipeline_.get();
      log::Info("filters_loaded");
    });
  });
}

int Daemon::StartControl() {
  // Outage alerts, status history and usage (SPEC section 11) on a thread of their own.
  alerts_ = std::make_unique<alerts::AlertEngine>(
      *control_store_, usage_counters_,
      [this](queue::Envelope env, std::shared_ptr<const std::string> body,
             alerts::EnqueueDone done) {
        asio::post(io_, [this, env = std::move(env), body, done]() mutable {
          if (!relay_) return done(Status(Status::Code::kUnavailable, "queue stopped"), "");
          asio::co_spawn(io_, AcceptAlert(*relay_, std::move(env), body, done), asio::detached);
        });
      },
      cfg_->cluster.node);
  // Cluster mode: outages are shared (one alert per event across nodes); a domain another node
  // saw recover is probed at once on this node's queue.
  if (!cfg_->cluster.store.empty())
    alerts_->EnableCluster([this](const std::string& domain) {
      asio::post(io_, [this, domain] {
        if (relay_) relay_->ProbeNow(domain);
      });
    });
  // Every MX lookup of the process (DSN targets) on one fixed pool, whatever the number of
  // remote domains (delivery.mx_resolver_threads); `dns.servers` follow reloads.
  mx_resolver_ = std::make_shared<routing::MxResolver>(cfg_->delivery.mx_resolver_threads,
                                                       cfg_->delivery.mx_cache_entries);
  mx_resolver_->SetServers(cfg_->dns.servers);
  control_ = std::make_unique<control::ControlPlane>(
      io_, *control_store_, cfg_, [this](std::shared_ptr<const config::Config> eff) {
        ctx_.config = eff;
        mx_resolver_->SetServers(eff->dns.servers);
        if (relay_) relay_->SetConfig(eff);
        alerts_->SetConfig(eff);
        EnsureFilters(eff);
      });
  Status st = control_->Load();
  if (!st.ok()) {
    log::Error("fatal").kv("reason", "cannot read control store").kv("detail", st.message());
    return 1;
  }
  if (snapshot_ && !snapshot_->connected()) {
    StartAlertsWhenConnected();
  } else {
    st = alerts_->Start(control_->Effective(), control_->Tenants());
    if (!st.ok()) {
      log::Error("fatal").kv("reason", "cannot read alert state").kv("detail", st.message());
      return 1;
    }
  }
  control_->SetTenantsListener([this](std::shared_ptr<const control::TenantSnapshot> t) {
    alerts_->SetTenants(std::move(t));
  });
  // Cluster mode: other nodes' writes are followed within a second or two; the store going
  // away leaves the loaded state serving mail (spamweeder_control_store_up).
  control_->StartWatching();
  return 0;
}

// Started from the local snapshot: alerts need the shared state, so they start once the
// database answers (until then no alert could be recorded once anyway).
void Daemon::StartAlertsWhenConnected() {
  snapshot_->OnConnected([this] {
    asio::post(io_, [this] {
      Status as = alerts_->Start(control_->Effective(), control_->Tenants());
      if (!as.ok()) log::Error("alerts_start_failed").kv("detail", as.message());
      if (as.ok()) alerts_->Reconcile();
    });
  });
}

// A missing or empty ClamAV database is a configuration error (exit 2) at startup.
int Daemon::StartFilters() {
  auto effective = control_->Effective();
  if (filters::AnyDomainFilters(*effective)) {
    std::string filters_err;
    pipeline_ = filters::BuildPipeline(*effective, &filters_err);
    if (!pipeline_) {
      std::cerr << config_path_ << ": cannot start the ClamAV filter: " << filters_err << "\n";
      log::Error("fatal").kv("reason", "cannot start filters").kv("detail", filters_err);
      return 2;
    }
  }
  ctx_.config = effective;
  return 0;
}

int Daemon::StartQueue() {
  // One connection pool for every customer domain: thousands of hosted domains on one mail
  // server share its max_connections_per_destination (as Postfix counts per nexthop).
  shared_pool_ = std::make_shared<routing::ConnectionPool>(
      io_.get_executor(), cfg_->delivery.max_connections_per_destination,
      cfg_->delivery.idle_timeout);
  // Destinations follow the current config (delivery timeouts, hostname), not the startup one.
  relay_ = std::make_unique<queue::RelayQueue>(
      io_, *store_, ctx_.config,
      [this, pool = shared_pool_,
       mx = mx_resolver_](const config::DomainConfig& d) -> std::unique_ptr<routing::Destination> {
        const auto& c = *ctx_.config;
        if (d.destinations.empty())  // a sender's domain (DSNs) without outbound_relay
          return std::make_unique<routing::MxDestination>(io_.get_executor(), c.server.hostname,
                                                          d.name, c.delivery, mx);
        return std::make_unique<routing::SmtpDestination>(
            io_.get_executor(), c.server.hostname, d.destinations, d.tls, c.delivery, d.name, pool);
      });
  relay_->SetObserver(alerts_.get());
  Status st = relay_->Load();
  if (!st.ok()) {
    log::Error("fatal").kv("reason", "cannot read queue").kv("detail", st.message());
    return 1;
  }
  alerts_->Reconcile();
  return 0;
}

int Daemon::StartListeners() {
  disk_ = std::make_unique<DiskSpace>(cfg_->queue.path, cfg_->server.min_free_space);
  ctx_.queue = relay_.get();
  ctx_.tls = tls_;
  ctx_.disk = disk_.get();
  ctx_.data_budget = &data_budget_;
  // Rendered by the admin server on this thread, where data_budget lives.
  inflight_gauge_ = metrics::Global().AddCallback(
      "spamweeder_inflight_data_bytes",
      "Message bytes held in memory by sessions receiving DATA (server.max_inflight_data)",
      metrics::Type::kGauge, [this]() {
        return std::vector<metrics::Sample>{{{}, static_cast<double>(data_budget_.in_use())}};
      });
  ctx_.filters = pipeline_.get();
  ctx_.usage = &usage_counters_;
  // Recipient callouts (recipient_verification: callout) on fresh connections of their own.
  callout_ = std::make_unique<RecipientCallout>(
      io_.get_executor(),
      [this](const config::DomainConfig& d) -> std::unique_ptr<routing::Destination> {
        return std::make_unique<routing::SmtpDestination>(
            io_.get_executor(), ctx_.config->server.hostname, d.destinations, d.tls,
            ctx_.config->delivery, d.name);
      },
      [this](const std::string& domain) { return relay_->DomainDown(domain); });
  ctx_.callout = callout_.get();
  server_ = std::make_unique<SmtpServer>(io_, ctx_);
  if (Status st = server_->Start(); !st.ok()) {
    log::Error("fatal").kv("reason", st.message());
    return 1;
  }
  // Admin API (SPEC section 7) on the same thread; the token follows SIGHUP reloads.
  admin_api_ = std::make_unique<admin::AdminApi>(
      *relay_, [this] { return ctx_.config; }, control_.get());
  admin_api_->SetTestAlertHook([this](const std::string& customer, std::optional<size_t> contact) {
    return alerts_->SendTest(customer, contact);
  });
  admin_server_ = std::make_unique<admin::AdminServer>(
      io_, cfg_->admin.listen,
      [this](admin::HttpRequest r) { return admin_api_->Handle(std::move(r)); }, admin_options_);
  if (Status st = admin_server_->Start(); !st.ok()) {
    log::Error("fatal").kv("reason", st.message());
    return 1;
  }
  heartbeat_ = StartHeartbeat(io_, *control_store_, *cfg_, *relay_);
  if (heartbeat_) admin_api_->SetClusterNodes([hb = heartbeat_.get()] { return hb->NodesJson(); });
  log::Info("started")
      .kv("version", SW_VERSION_STRING)
      .kv("domains", ctx_.config->domains.size())
      .kv("queued", relay_->size());
  return 0;
}

void Daemon::AwaitSignal() {
  signals_->async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) OnSignal(sig);
  });
}

void Daemon::OnSignal(int sig) {
  if (sig == SIGHUP) {
    Reload();
    AwaitSignal();
    return;
  }
  log::Info("stopping").kv("signal", sig).kv("sessions", server_->sessions());
  ctx_.shutting_down = true;
  server_->Stop();
  admin_server_->Stop();
  deadline_ = std::chrono::steady_clock::now() + kShutdownGrace;
  WaitDrain();
}

// SIGHUP: the file config again; new certificates for new sessions; a broken one keeps the
// running contexts.
void Daemon::Reload() {
  try {
    auto fresh = std::make_shared<const config::Config>(config::LoadConfig(config_path_));
    std::string fresh_err;
    auto fresh_tls = MakeTls(fresh->server.tls, &fresh_err);
    if (fresh->server.tls && !fresh_tls) {
      log::Error("reload_failed").kv("reason", "server.tls: " + fresh_err);
      return;
    }
    auto fresh_admin_tls = MakeTls(fresh->admin.tls, &fresh_err);
    if (fresh->admin.tls && !fresh_admin_tls) {
      log::Error("reload_failed").kv("reason", "admin.tls: " + fresh_err);
      return;
    }
    ctx_.tls = fresh_tls;
    admin_server_->SetTls(fresh_admin_tls);  // the listener's mode stays as started
    control_->SetFileConfig(fresh);          // publishes file + provisioned domains
    log::Info("reloaded").kv("domains", ctx_.config->domains.size());
  } catch (const config::ConfigError& e) {
    log::Error("reload_failed").kv("reason", e.problems().empty() ? "" : e.problems()[0]);
  }
}

// Sessions finish (up to kShutdownGrace) before the queue stops.
void Daemon::WaitDrain() {
  if (server_->sessions() == 0 || std::chrono::steady_clock::now() >= deadline_) {
    relay_->Stop();
    shared_pool_->Close();
    callout_->Clear();
    io_.stop();
    return;
  }
  drain_->expires_after(std::chrono::milliseconds(50));
  drain_->async_wait([this](const boost::system::error_code&) { WaitDrain(); });
}

void Daemon::Finish() {
  mx_resolver_->Stop();                // no answer is posted to `io` from now on
  if (heartbeat_) heartbeat_->Stop();  // marks this node stopped in `cluster status`
  control_->StopWatching();
  if (loader_.joinable()) loader_.join();
  alerts_->Stop();                   // flushes usage; the outbox keeps what was not sent
  if (pipeline_) pipeline_->Stop();  // joins scanner threads while `io` still exists
  log::Info("stopped").kv("queued", relay_->size());
}

}  // namespace

int Serve(const std::string& config_path) { return Daemon(config_path).Run(); }

}  // namespace sw::gateway
