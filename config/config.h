// Owns the typed, immutable configuration of SpamWeeder (SPEC section 3) with every default.
// Fails only while loading: LoadConfig throws ConfigError listing `FILE:LINE:COL: message`.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sw::config {

using Duration = std::chrono::milliseconds;

// "host:port", "[v6]:port" or "*:port"; port 0 means "any free port" (tests).
struct ListenAddress {
  std::string host;
  uint16_t port = 0;
  std::string ToString() const;
};

// A delivery destination: "[ip]:port" / "[host]:port" used as is, "host" or "host:port"
// resolved to A/AAAA (never MX). Port 25 when omitted.
struct Destination {
  std::string host;
  uint16_t port = 25;
  bool literal = false;  // written in brackets
  std::string ToString() const;
};

struct CertificateFiles {
  std::string certificate;  // PEM chain, leaf first
  std::string key;
};

// The lowest protocol version STARTTLS accepts from clients (`server.tls.min_version`).
enum class TlsVersion { k1_0, k1_1, k1_2, k1_3 };

struct TlsFiles {
  std::string certificate;  // the default certificate (no SNI, or no name matched)
  std::string key;
  // More certificates, chosen by the client's SNI against each one's DNS names, in order.
  std::vector<CertificateFiles> certificates;
  TlsVersion min_version = TlsVersion::k1_2;
};

struct ServerConfig {
  std::string hostname = "mx.example.net";
  // Extension (white label): the comment after our host name in the Received header we add;
  // empty: none. Resellers' customers see it in their messages and in the portal.
  std::string received_product = "SpamWeeder";
  std::vector<ListenAddress> listen = {{"0.0.0.0", 25}};
  uint64_t max_message_size = 50ull * 1024 * 1024;
  uint32_t max_recipients = 100;
  uint32_t max_connections = 1000;
  uint32_t max_connections_per_ip = 20;
  uint32_t max_errors = 10;
  Duration command_timeout = std::chrono::minutes(5);
  Duration data_timeout = std::chrono::minutes(10);
  std::optional<TlsFiles> tls;
  // Extension, reserved: event-loop threads. This version runs one (the only value accepted);
  // the filters and the store have their own worker threads.
  uint32_t io_threads = 1;
  // Extension: below this many free bytes on the queue's filesystem MAIL gets 452 4.3.1.
  uint64_t min_free_space = 100ull * 1024 * 1024;
  // Extension: message bytes all sessions together may hold in memory while receiving DATA
  // (0: no limit). Past it the transaction is read to its end and refused with 452 4.3.1.
  uint64_t max_inflight_data = 1024ull * 1024 * 1024;
};

struct QueueConfig {
  std::string path = "/var/lib/spamweeder/queue";
  Duration retry_interval = std::chrono::minutes(5);
  Duration max_age = std::chrono::hours(24 * 30);
  std::optional<Duration> delay_warning;  // off when empty
  // Extension (issue 14): queued envelopes kept in memory, overall and per domain (like
  // Postfix's qmgr_message_active_limit); the rest stays on disk and streams in arrival order.
  uint32_t active_limit = 20000;
  uint32_t active_window_per_domain = 1000;
};

struct DeliveryConfig {
  Duration probe_interval = std::chrono::minutes(1);
  Duration connect_timeout = std::chrono::seconds(30);
  Duration command_timeout = std::chrono::minutes(5);
  uint32_t max_connections_per_destination = 20;
  std::string outbound_relay;  // "[ip]:port" or empty (MX lookup)
  // Extension: how long an idle connection to a destination is kept for reuse.
  Duration idle_timeout = std::chrono::seconds(10);
  // Extension (issue 14): MX-routed destinations (DSN targets when outbound_relay is empty).
  // Worker threads doing every blocking MX lookup of the process (read at start), the MX
  // answers they cache (least recently used dropped past it), and how long a remote domain
  // with nothing queued or in flight is kept before its state and connections are dropped.
  uint32_t mx_resolver_threads = 2;
  uint32_t mx_cache_entries = 10000;
  Duration mx_idle_timeout = std::chrono::minutes(5);
};

struct AdminConfig {
  ListenAddress listen = {"127.0.0.1", 8025};
  std::string token = "CHANGE-ME";
  // Extension: API requests per second per token (token bucket), and the bucket's size.
  // Past it: 429 with Retry-After.
  uint32_t rate_limit = 50;
  uint32_t rate_burst = 200;
  // Extension (issue 11): HTTPS on the admin listener (API and portal), same shape as
  // `server.tls`; `certificates` are chosen by SNI (resellers' portal hosts). None: plain HTTP.
  std::optional<TlsFiles> tls;
};

// Extension (SPEC section 10): the embedded control-plane store and domain verification.
struct ProvisioningConfig {
  std::string
      path;  // RocksDB directory of tenants, tokens, domains, audit; "" = <queue.path>-control
  bool require_verification = false;  // new API domains stay pending until their TXT record
};

// Extension (SPEC section 13, cluster mode): where the control plane lives and this node's name.
struct ClusterConfig {
  // "" = the embedded RocksDB store (provisioning.path); else a postgresql:// or postgres:// URL
  // of the database every node of the cluster shares.
  std::string store;
  std::string node;  // names this node (audit rows, usage, alerts); "" in the file: server.hostname
  // How often a node writes its heartbeat (record n/<node>) for `spamweeder cluster status`;
  // a node silent for 3 intervals shows as stale.
  Duration heartbeat_interval = std::chrono::seconds(5);
  // Shared domain health (CLUSTER.md): how often a node reads the cluster's open outages (to
  // drain its queue when another node saw a domain recover) and writes its own successes.
  Duration health_poll = std::chrono::seconds(1);
};

enum class OnFailure { kTempfail, kAccept };

struct RspamdConfig {
  std::string url = "http://127.0.0.1:11333";
  Duration timeout = std::chrono::seconds(20);
  OnFailure on_failure = OnFailure::kTempfail;
  // Extension: concurrent HTTP connections to rspamd (more requests wait for a free one).
  uint32_t max_connections = 32;
};

// Where libclamav runs: in sandboxed worker processes (default), or in the gateway process.
enum class ClamavIsolation { kProcess, kInProcess };

struct ClamavConfig {
  std::string database = "/var/lib/clamav";
  OnFailure on_failure = OnFailure::kTempfail;
  // Extensions: where libclamav unpacks MIME parts and archives (tmpfs is ~2x faster),
  // the deadline of one scan, how often the database is checked for changes, and the
  // number of concurrent scans: worker processes, or threads in process (0: one per core).
  std::string temp_dir = "/tmp";
  Duration timeout = std::chrono::seconds(60);
  Duration reload_interval = std::chrono::seconds(60);
  uint32_t threads = 0;
  // Extension (issue 13): libclamav in pre-forked, sandboxed worker processes, each limited to
  // `worker_memory` of address space (0: unlimited).
  ClamavIsolation isolation = ClamavIsolation::kProcess;
  uint64_t worker_memory = 4ULL << 30;
};

struct FiltersConfig {
  RspamdConfig rspamd;
  ClamavConfig clamav;
};

struct SpamPolicy {
  std::optional<double> tag_score = 6;
  std::optional<double> reject_score = 15;
  std::string subject_tag;
};

enum class VirusAction { kReject };
// Where a domain record comes from, and whether it takes mail (SPEC section 10).
enum class DomainSource { kConfig, kApi };
enum class DomainState {
  kActive,   // takes mail
  kPending,  // provisioned, ownership not verified yet: 450 4.7.1
  kDeleted,  // removed: 554 5.7.1 for new mail, queued mail still drains to its destinations
};
enum class TlsPolicy { kOpportunistic, kRequired, kVerify };
// `recipient_verification`: off, or callout (ask the destination at RCPT, SPEC section 3).
enum class RecipientVerification { kOff, kCallout };

struct DomainConfig {
  std::string name;  // lower case, no trailing dot
  std::vector<Destination> destinations;
  bool filtering = false;
  SpamPolicy spam;
  VirusAction virus = VirusAction::kReject;
  TlsPolicy tls = TlsPolicy::kOpportunistic;
  std::vector<std::string> recipients;  // lower-cased addresses or local parts; empty: any
  RecipientVerification recipient_verification = RecipientVerification::kOff;
  // Control plane (SPEC section 10): owner, origin, state and a version bumped by each write.
  std::string customer;  // customer ID; "" = operator-owned
  DomainSource source = DomainSource::kConfig;
  DomainState state = DomainState::kActive;
  uint64_t version = 1;
};

// Extension (SPEC section 10): resolvers for TXT verification; empty: /etc/resolv.conf.
struct DnsConfig {
  std::vector<ListenAddress> servers;  // IPv4 "ip" or "ip:port" (port 53 by default)
};

struct LogConfig {
  std::string file;  // empty: stderr
};

// SPEC section 11: the brand of alerts to the operator's direct customers (a reseller's own
// alerts use its branding record).
struct AlertBrand {
  std::string product_name = "SpamWeeder";
  std::string from;  // alert_from; empty: "alerts@" + server.hostname
  std::string from_name;
  std::string support_email;
  std::string logo_url;
};

enum class SmsKind { kNone, kTwilio, kWebhook };

// `alerts.sms`: twilio = form POST To/From/Body with basic auth account:token; webhook = JSON.
struct SmsConfig {
  SmsKind kind = SmsKind::kNone;
  std::string url;
  std::string account;
  std::string token_file;  // the secret's file (read at start and on SIGHUP), never inline
  std::string from;
  Duration timeout = std::chrono::seconds(10);
};

struct AlertsConfig {
  Duration grace = std::chrono::minutes(5);       // down this long before `down`; flap damping
  Duration repeat = std::chrono::hours(24);       // `still_down` period
  Duration retry_for = std::chrono::hours(24);    // an undelivered alert is dropped after this
  Duration retry_min = std::chrono::seconds(10);  // first retry; doubles up to retry_max
  Duration retry_max = std::chrono::minutes(10);
  // Extension: an `up` waits until the domain's backlog drained, at most this long, so it can
  // say how many queued messages were delivered.
  Duration up_wait = std::chrono::minutes(1);
  Duration http_timeout = std::chrono::seconds(10);  // per-contact webhooks
  AlertBrand brand;
  SmsConfig sms;
};

// Extension: recipient verification by callout (`recipient_verification: callout`).
struct CalloutConfig {
  Duration valid_for = std::chrono::hours(24 * 30);  // a 2xx answer is cached this long
  Duration invalid_for = std::chrono::hours(1);      // a 5xx answer is cached this long
  uint32_t max_entries = 100000;                     // cache size; the oldest entry goes first
  uint32_t max_concurrent = 4;                       // callouts in flight per domain
  Duration timeout = std::chrono::seconds(10);       // connect + whole dialogue
};

struct UsageConfig {
  uint32_t retention_days = 400;                       // hourly counters kept this long
  Duration flush_interval = std::chrono::seconds(10);  // counters written to the store
};

struct Config {
  std::string source;  // file it was loaded from
  ServerConfig server;
  QueueConfig queue;
  DeliveryConfig delivery;
  AdminConfig admin;
  FiltersConfig filters;
  LogConfig log;
  ProvisioningConfig provisioning;
  ClusterConfig cluster;
  DnsConfig dns;
  AlertsConfig alerts;
  UsageConfig usage;
  CalloutConfig callout;
  std::map<std::string, DomainConfig> domains;  // key: lower-cased domain name
};

class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// Parses and validates FILE. Throws ConfigError with one `FILE:LINE:COL: message` per
// problem (all problems found, not only the first).
Config LoadConfig(const std::string& path);
// Same, from text (for tests); `name` stands in for the file name in messages.
Config LoadConfigFromString(const std::string& text, const std::string& name);
// A short human summary for `check-config`: listen addresses, queue path, admin address,
// domain count (and how many filter) and each domain with its destinations.
std::string Summarize(const Config& config);

// Unit parsers, exposed for tests. Return nullopt on bad syntax.
std::optional<Duration> ParseDuration(const std::string& s);  // 500ms 30s 5m 4h 30d
std::optional<uint64_t> ParseSize(const std::string& s);      // 1234 64KiB 50MiB 1GiB (also KB/MB)
std::optional<ListenAddress> ParseListenAddress(const std::string& s);
std::optional<Destination> ParseDestination(const std::string& s);
// The control store's directory: provisioning.path, or `<queue.path>-control` when empty.
std::string ControlStorePath(const Config& config);

}  // namespace sw::config
