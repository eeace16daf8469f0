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

}  // namespace

int Serve(const std::string& config_path) {
  std::shared_ptr<const config::Config> cfg;
  try {
    cfg = std::make_shared<const config::Config>(config::LoadConfig(config_path));
  } catch (const config::ConfigError& e) {
    for (const auto& p : e.problems()) std::cerr << p << "\n";
    return 2;
  }
  if (!log::SetFile(cfg->log.file)) {
    std::cerr << config_path << ": cannot open log file " << cfg->log.file << "\n";
    return 2;
  }
  std::string tls_err;
  auto tls = MakeTls(cfg->server.tls, &tls_err);
  if (cfg->server.tls && !tls) {
    std::cerr << config_path << ": server.tls: " << tls_err << "\n";
    return 2;
  }
  admin::AdminServerOptions admin_options;
  admin_options.tls = MakeTls(cfg->admin.tls, &tls_err);
  if (cfg->admin.tls && !admin_options.tls) {
    std::cerr << config_path << ": admin.tls: " << tls_err << "\n";
    return 2;
  }

  Status st;
  auto store = queue::RocksDbQueueStore::Open(cfg->queue.path, &st);
  if (!store) {
    log::Error("fatal")
        .kv("reason", "cannot open queue")
        .kv("path", cfg->queue.path)
        .kv("detail", st.message());
    return 1;
  }

  // The control plane (SPEC section 10): tenants, tokens, provisioned domains, audit.
  // Embedded RocksDB, or PostgreSQL shared by the cluster (`cluster.store`, SPEC section 13).
  std::string control_where = control::ControlStoreLocation(*cfg);
  control::SnapshotControlStore* snapshot = nullptr;  // cluster mode: the local copy
  auto control_store = control::OpenNodeControlStore(*cfg, &st, &snapshot);
  if (!control_store) {
    log::Error("fatal")
        .kv("reason", "cannot open control store")
        .kv("path", control_where)
        .kv("detail", st.message());
    return 1;
  }
  log::Info("control_store_opened")
      .kv("kind", cfg->cluster.store.empty() ? "embedded" : "postgresql")
      .kv("path", control_where)
      .kv("node", cfg->cluster.node);

  asio::io_context io(1);
  GatewayContext ctx;
  std::unique_ptr<queue::RelayQueue> relay_ptr;
  std::unique_ptr<filters::Pipeline> pipeline;
  bool pipeline_loading = false;
  std::thread loader;  // joined before returning
  // SpamWeeder Premium scanners, built when a domain first filters (at startup, or later
  // when filtering is switched on through the API or a reload), on a thread of their own so
  // that loading the ClamAV database never stalls the event loop.
  auto ensure_filters = [&](const std::shared_ptr<const config::Config>& c) {
    if (pipeline || pipeline_loading || !filters::AnyDomainFilters(*c)) return;
    pipeline_loading = true;
    log::Info("filters_loading");
    if (loader.joinable()) loader.join();
    loader = std::thread([&io, &pipeline, &pipeline_loading, &ctx, c] {
      std::string err;
      auto built = filters::BuildPipeline(*c, &err);
      auto shared = std::make_shared<std::unique_ptr<filters::Pipeline>>(std::move(built));
      asio::post(io, [&pipeline, &pipeline_loading, &ctx, shared, err] {
        pipeline_loading = false;
        if (!*shared) {
          log::Error("filters_failed").kv("detail", err);
          return;
        }
        pipeline = std::move(*shared);
        ctx.filters = pipeline.get();
        log::Info("filters_loaded");
      });
    });
  };
  // Outage alerts, status history and usage (SPEC section 11) on a thread of their own.
  usage::UsageCounters usage_counters;
  auto alerts = std::make_unique<alerts::AlertEngine>(
      *control_store, usage_counters,
      [&io, &relay_ptr](queue::Envelope env, std::shared_ptr<const std::string> body,
                        alerts::EnqueueDone done) {
        asio::post(io, [&io, &relay_ptr, env = std::move(env), body, done]() mutable {
          if (!relay_ptr) return done(Status(Status::Code::kUnavailable, "queue stopped"), "");
          asio::co_spawn(io, AcceptAlert(*relay_ptr, std::move(env), body, done), asio::detached);
        });
      },
      cfg->cluster.node);
  // Cluster mode: outages are shared (one alert per event across nodes); a domain another node
  // saw recover is probed at once on this node's queue.
  if (!cfg->cluster.store.empty())
    alerts->EnableCluster([&io, &relay_ptr](const std::string& domain) {
      asio::post(io, [&relay_ptr, domain] {
        if (relay_ptr) relay_ptr->ProbeNow(domain);
      });
    });
  // Every MX lookup of the process (DSN targets) on one fixed pool, whatever the number of
  // remote domains (delivery.mx_resolver_threads); `dns.servers` follow reloads.
  auto mx_resolver = std::make_shared<routing::MxResolver>(cfg->delivery.mx_resolver_threads,
                                                           cfg->delivery.mx_cache_entries);
  mx_resolver->SetServers(cfg->dns.servers);
  control::ControlPlane control(io, *control_store, cfg,
                                [&](std::shared_ptr<const config::Config> eff) {
                                  ctx.config = eff;
                                  mx_resolver->SetServers(eff->dns.servers);
                                  if (relay_ptr) relay_ptr->SetConfig(eff);
                                  alerts->SetConfig(eff);
                                  ensure_filters(eff);
                                });
  st = control.Load();
  if (!st.ok()) {
    log::Error("fatal").kv("reason", "cannot read control store").kv("detail", st.message());
    return 1;
  }
  auto effective = control.Effective();
  if (snapshot && !snapshot->connected()) {
    // Started from the local snapshot: alerts need the shared state, so they start once the
    // database answers (until then no alert could be recorded once anyway).
    snapshot->OnConnected([&io, &alerts, &control] {
      asio::post(io, [&alerts, &control] {
        Status as = alerts->Start(control.Effective(), control.Tenants());
        if (!as.ok()) log::Error("alerts_start_failed").kv("detail", as.message());
        if (as.ok()) alerts->Reconcile();
      });
    });
  } else {
    st = alerts->Start(effective, control.Tenants());
    if (!st.ok()) {
      log::Error("fatal").kv("reason", "cannot read alert state").kv("detail", st.message());
      return 1;
    }
  }
  control.SetTenantsListener([&alerts](std::shared_ptr<const control::TenantSnapshot> t) {
    alerts->SetTenants(std::move(t));
  });
  // Cluster mode: other nodes' writes are followed within a second or two; the store going
  // away leaves the loaded state serving mail (spamweeder_control_store_up).
  control.StartWatching();
  // A missing or empty ClamAV database is a configuration error (exit 2) at startup.
  if (filters::AnyDomainFilters(*effective)) {
    std::string filters_err;
    pipeline = filters::BuildPipeline(*effective, &filters_err);
    if (!pipeline) {
      std::cerr << config_path << ": cannot start the ClamAV filter: " << filters_err << "\n";
      log::Error("fatal").kv("reason", "cannot start filters").kv("detail", filters_err);
      return 2;
    }
  }
  ctx.config = effective;
  // One connection pool for every customer domain: thousands of hosted domains on one mail
  // server share its max_connections_per_destination (as Postfix counts per nexthop).
  auto shared_pool = std::make_shared<routing::ConnectionPool>(
      io.get_executor(), cfg->delivery.max_connections_per_destination, cfg->delivery.idle_timeout);
  // Destinations follow the current config (delivery timeouts, hostname), not the startup one.
  relay_ptr = std::make_unique<queue::RelayQueue>(
      io, *store, effective,
      [&io, &ctx, shared_pool,
       mx_resolver](const config::DomainConfig& d) -> std::unique_ptr<routing::Destination> {
        const auto& c = *ctx.config;
        if (d.destinations.empty())  // a sender's domain (DSNs) without outbound_relay
          return std::make_unique<routing::MxDestination>(io.get_executor(), c.server.hostname,
                                                          d.name, c.delivery, mx_resolver);
        return std::make_unique<routing::SmtpDestination>(io.get_executor(), c.server.hostname,
                                                          d.destinations, d.tls, c.delivery, d.name,
                                                          shared_pool);
      });
  queue::RelayQueue& relay = *relay_ptr;
  relay.SetObserver(alerts.get());
  st = relay.Load();
  if (!st.ok()) {
    log::Error("fatal").kv("reason", "cannot read queue").kv("detail", st.message());
    return 1;
  }

  alerts->Reconcile();
  DiskSpace disk(cfg->queue.path, cfg->server.min_free_space);
  DataBudget data_budget;
  ctx.queue = &relay;
  ctx.tls = tls;
  ctx.disk = &disk;
  ctx.data_budget = &data_budget;
  // Rendered by the admin server on this thread, where data_budget lives.
  metrics::CallbackHandle inflight_gauge = metrics::Global().AddCallback(
      "spamweeder_inflight_data_bytes",
      "Message bytes held in memory by sessions receiving DATA (server.max_inflight_data)",
      metrics::Type::kGauge, [&data_budget]() {
        return std::vector<metrics::Sample>{{{}, static_cast<double>(data_budget.in_use())}};
      });
  ctx.filters = pipeline.get();
  ctx.usage = &usage_counters;
  // Recipient callouts (recipient_verification: callout) on fresh connections of their own.
  RecipientCallout callout(
      io.get_executor(),
      [&io, &ctx](const config::DomainConfig& d) -> std::unique_ptr<routing::Destination> {
        return std::make_unique<routing::SmtpDestination>(
            io.get_executor(), ctx.config->server.hostname, d.destinations, d.tls,
            ctx.config->delivery, d.name);
      },
      [&relay](const std::string& domain) { return relay.DomainDown(domain); });
  ctx.callout = &callout;
  SmtpServer server(io, ctx);
  st = server.Start();
  if (!st.ok()) {
    log::Error("fatal").kv("reason", st.message());
    return 1;
  }
  // Admin API (SPEC section 7) on the same thread; the token follows SIGHUP reloads.
  admin::AdminApi admin_api(
      relay, [&ctx] { return ctx.config; }, &control);
  admin_api.SetTestAlertHook([&alerts](const std::string& customer, std::optional<size_t> contact) {
    return alerts->SendTest(customer, contact);
  });
  admin::AdminServer admin_server(
      io, cfg->admin.listen,
      [&admin_api](admin::HttpRequest r) { return admin_api.Handle(std::move(r)); }, admin_options);
  st = admin_server.Start();
  if (!st.ok()) {
    log::Error("fatal").kv("reason", st.message());
    return 1;
  }
  auto heartbeat = StartHeartbeat(io, *control_store, *cfg, relay);
  if (heartbeat) admin_api.SetClusterNodes([hb = heartbeat.get()] { return hb->NodesJson(); });
  log::Info("started")
      .kv("version", SW_VERSION_STRING)
      .kv("domains", effective->domains.size())
      .kv("queued", relay.size());

  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  asio::steady_timer drain(io);
  auto deadline = std::chrono::steady_clock::time_point::max();
  std::function<void()> wait_drain = [&] {
    if (server.sessions() == 0 || std::chrono::steady_clock::now() >= deadline) {
      relay.Stop();
      shared_pool->Close();
      callout.Clear();
      io.stop();
      return;
    }
    drain.expires_after(std::chrono::milliseconds(50));
    drain.async_wait([&](const boost::system::error_code&) { wait_drain(); });
  };
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          try {
            auto fresh = std::make_shared<const config::Config>(config::LoadConfig(config_path));
            // New certificates for new sessions; a broken one keeps the running contexts.
            std::string fresh_err;
            auto fresh_tls = MakeTls(fresh->server.tls, &fresh_err);
            if (fresh->server.tls && !fresh_tls) {
              log::Error("reload_failed").kv("reason", "server.tls: " + fresh_err);
              signals.async_wait(on_signal);
              return;
            }
            auto fresh_admin_tls = MakeTls(fresh->admin.tls, &fresh_err);
            if (fresh->admin.tls && !fresh_admin_tls) {
              log::Error("reload_failed").kv("reason", "admin.tls: " + fresh_err);
              signals.async_wait(on_signal);
              return;
            }
            ctx.tls = fresh_tls;
            admin_server.SetTls(fresh_admin_tls);  // the listener's mode stays as started
            control.SetFileConfig(fresh);          // publishes file + provisioned domains
            log::Info("reloaded").kv("domains", ctx.config->domains.size());
          } catch (const config::ConfigError& e) {
            log::Error("reload_failed").kv("reason", e.problems().empty() ? "" : e.problems()[0]);
          }
          signals.async_wait(on_signal);
          return;
        }
        log::Info("stopping").kv("signal", sig).kv("sessions", server.sessions());
        ctx.shutting_down = true;
        server.Stop();
        admin_server.Stop();
        deadline = std::chrono::steady_clock::now() + kShutdownGrace;
        wait_drain();
      };
  signals.async_wait(on_signal);
  io.run();
  mx_resolver->Stop();               // no answer is posted to `io` from now on
  if (heartbeat) heartbeat->Stop();  // marks this node stopped in `cluster status`
  control.StopWatching();
  if (loader.joinable()) loader.join();
  alerts->Stop();                  // flushes usage; the outbox keeps what was not sent
  if (pipeline) pipeline->Stop();  // joins scanner threads while `io` still exists
  log::Info("stopped").kv("queued", relay.size());
  return 0;
}

}  // namespace sw::gateway
