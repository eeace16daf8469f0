// Owns loading SPEC section 3 YAML into a typed Config: every key, default and validation.
// Fails by throwing ConfigError once with every problem as `FILE:LINE:COL: message`.
#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/domain_rules.h"
#include "config/yaml_reader.h"

namespace sw::config {
namespace {

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

using detail::Choices;
using detail::Entry;
using detail::Loc;
using detail::Lower;
using detail::MarkOf;
using detail::ReadFile;
using detail::Trim;
using detail::YamlReader;

// local@domain: a recipient (domain_rules.h) whose domain is a domain name.
bool LooksLikeAddress(const std::string& text) {
  size_t at = text.rfind('@');
  if (at == std::string::npos) return false;
  std::string domain = Lower(text.substr(at + 1)), ignored;
  return LooksLikeDomain(domain, false) && CheckRecipient(text, domain, &ignored).empty();
}

bool IsHttpUrl(std::string_view url) {
  return (url.rfind("http://", 0) == 0 && url.size() > 7) ||
         (url.rfind("https://", 0) == 0 && url.size() > 8);
}

// "unix:/absolute/path" that fits in sockaddr_un.sun_path (107 bytes and the NUL).
bool IsUnixSocketUrl(std::string_view url) {
  return url.rfind("unix:/", 0) == 0 && url.size() - 5 <= 107;
}

class Loader : private YamlReader {
 public:
  explicit Loader(std::string name) : YamlReader(std::move(name)) {}

  Config Load(const std::string& text) {
    Config config;
    config.source = Name();
    if (auto root = ReadDocument(text)) LoadRoot(*root, config);
    if (config.cluster.node.empty()) config.cluster.node = config.server.hostname;
    if (ProblemCount() != 0) Throw();
    return config;
  }

 private:
  void ReadOnFailure(const Entry& e, OnFailure& out) {
    ReadChoice<OnFailure>(e, out,
                          {{"tempfail", OnFailure::kTempfail}, {"accept", OnFailure::kAccept}});
  }

  void LoadRoot(const Entry& root, Config& config) {
    ForEach(root,
            {"server", "queue", "delivery", "admin", "filters", "log", "provisioning", "cluster",
             "dns", "alerts", "usage", "callout", "domains"},
            [&](const Entry& e) {
              if (e.key == "server") LoadServer(e, config.server);
              if (e.key == "queue") LoadQueue(e, config.queue);
              if (e.key == "delivery") LoadDelivery(e, config.delivery);
              if (e.key == "admin") LoadAdmin(e, config.admin);
              if (e.key == "filters") LoadFilters(e, config.filters);
              if (e.key == "log") LoadLog(e, config.log);
              if (e.key == "provisioning") LoadProvisioning(e, config.provisioning);
              if (e.key == "cluster") LoadCluster(e, config.cluster);
              if (e.key == "dns") LoadDns(e, config.dns);
              if (e.key == "alerts") LoadAlerts(e, config.alerts);
              if (e.key == "usage") LoadUsage(e, config.usage);
              if (e.key == "callout") LoadCallout(e, config.callout);
              if (e.key == "domains") LoadDomains(e, config.domains);
            });
    if (admin_listen_loc_.line > 0 && config.admin.listen.port != 0) {
      for (const auto& address : config.server.listen) {
        if (address.port == config.admin.listen.port &&
            (address.host == config.admin.listen.host || address.host == "0.0.0.0" ||
             address.host == "::" || config.admin.listen.host == "0.0.0.0" ||
             config.admin.listen.host == "::")) {
          Problem(admin_listen_loc_, "`admin.listen` " + config.admin.listen.ToString() +
                                         " conflicts with `server.listen` " + address.ToString());
        }
      }
    }
  }

  void LoadServer(const Entry& section, ServerConfig& server) {
    ForEach(section,
            {"hostname", "listen", "max_message_size", "max_recipients", "max_connections",
             "max_connections_per_ip", "max_errors", "timeouts", "tls", "io_threads",
             "min_free_space", "max_inflight_data", "received_product"},
            [&](const Entry& e) {
              if (e.key == "received_product") {
                ReadString(e, server.received_product, true);
                if (server.received_product.find_first_of("()\\") != std::string::npos ||
                    server.received_product.size() > 64 ||
                    std::any_of(server.received_product.begin(), server.received_product.end(),
                                [](char c) { return c < 0x20 || c > 0x7e; }))
                  Problem(e.loc,
                          "`server.received_product`: printable ASCII without ( ) \\, at most 64 "
                          "characters");
              } else if (e.key == "hostname") {
                std::string name;
                ReadString(e, name, false);
                if (name.empty()) return;
                if (!LooksLikeDomain(name, false)) {
                  Problem(e.loc, "`server.hostname`: `" + name + "` is not a host name");
                } else {
                  server.hostname = name;
                }
              } else if (e.key == "listen") {
                LoadListen(e, server.listen);
              } else if (e.key == "max_message_size") {
                ReadSize(e, server.max_message_size, false);
              } else if (e.key == "max_recipients") {
                ReadUint32(e, server.max_recipients, 1);
              } else if (e.key == "max_connections") {
                ReadUint32(e, server.max_connections, 1);
              } else if (e.key == "max_connections_per_ip") {
                ReadUint32(e, server.max_connections_per_ip, 1);
              } else if (e.key == "max_errors") {
                ReadUint32(e, server.max_errors, 1);
              } else if (e.key == "timeouts") {
                ForEach(e, {"command", "data"}, [&](const Entry& t) {
                  ReadDuration(t, t.key == "command" ? server.command_timeout : server.data_timeout,
                               false);
                });
              } else if (e.key == "tls") {
                LoadTls(e, server.tls);
              } else if (e.key == "io_threads") {
                ReadUint32(e, server.io_threads, 1, 1);  // one event loop in this version
              } else if (e.key == "min_free_space") {
                ReadSize(e, server.min_free_space, true);
              } else if (e.key == "max_inflight_data") {
                ReadSize(e, server.max_inflight_data, true);
              }
            });
  }

  void LoadListen(const Entry& e, std::vector<ListenAddress>& out) {
    auto items = ReadList(e);
    if (!items) return;
    if (items->empty()) {
      Problem(e.loc, "`server.listen` must list at least one address");
      return;
    }
    std::vector<ListenAddress> addresses;
    for (const auto& [text, loc] : *items) {
      auto address = ParseListenAddress(text);
      if (!address) {
        Problem(loc, "`server.listen`: bad address `" + text +
                         "` (expected IP:PORT, [IPv6]:PORT or *:PORT)");
        continue;
      }
      bool duplicate = std::any_of(addresses.begin(), addresses.end(), [&](const auto& a) {
        return a.host == address->host && a.port == address->port && a.port != 0;
      });
      if (duplicate) {
        Problem(loc, "`server.listen`: address " + address->ToString() + " is listed twice");
        continue;
      }
      addresses.push_back(*address);
    }
    if (addresses.size() == items->size()) out = std::move(addresses);
  }

  void CheckReadable(const Entry& e, const std::string& path, std::string_view what) {
    std::string error;
    if (!ReadFile(path, &error)) {
      Problem(e.loc, Quote(e) + ": cannot open " + std::string(what) + " `" + path + "`: " + error);
    }
  }

  void LoadTls(const Entry& section, std::optional<TlsFiles>& out) {
    if (section.value.IsNull()) {
      out.reset();
      return;
    }
    TlsFiles files;
    ForEach(section, {"certificate", "key", "certificates", "min_version"}, [&](const Entry& e) {
      if (e.key == "certificates") {
        LoadCertificates(e, files.certificates);
      } else if (e.key == "min_version") {
        ReadChoice<TlsVersion>(e, files.min_version,
                               {{"1.0", TlsVersion::k1_0},
                                {"1.1", TlsVersion::k1_1},
                                {"1.2", TlsVersion::k1_2},
                                {"1.3", TlsVersion::k1_3}});
      } else {
        std::string& target = e.key == "certificate" ? files.certificate : files.key;
        ReadString(e, target, false);
        if (!target.empty()) CheckReadable(e, target, e.key + " file");
      }
    });
    if (!section.value.IsMap()) return;
    for (const char* key : {"certificate", "key"}) {
      if (!section.value[key])
        Problem(section.loc, "`" + section.path + "` needs `" + std::string(key) + "`");
    }
    out = files;
  }

  // `server.tls.certificates`: a list of {certificate, key} maps, both required.
  void LoadCertificates(const Entry& e, std::vector<CertificateFiles>& out) {
    if (e.value.IsNull()) return;
    if (!e.value.IsSequence()) {
      Problem(e.loc, Quote(e) + ": expected a list of {certificate: FILE, key: FILE}");
      return;
    }
    size_t index = 0;
    for (const auto& it : e.value) {
      const YAML::Node& node = it;
      Entry item;
      item.key = std::to_string(index);
      item.path = e.path + "[" + std::to_string(index) + "]";
      item.value = node;
      item.loc = MarkOf(node);
      if (item.loc.line == 0) item.loc = e.loc;
      item.key_loc = item.loc;
      ++index;
      if (!node.IsMap()) {
        Problem(item.loc, Quote(item) + ": expected {certificate: FILE, key: FILE}");
        continue;
      }
      CertificateFiles files;
      ForEach(item, {"certificate", "key"}, [&](const Entry& f) {
        std::string& target = f.key == "certificate" ? files.certificate : files.key;
        ReadString(f, target, false);
        if (!target.empty()) CheckReadable(f, target, f.key + " file");
      });
      for (const char* key : {"certificate", "key"}) {
        if (!node[key]) Problem(item.loc, Quote(item) + " needs `" + std::string(key) + "`");
      }
      out.push_back(files);
    }
  }

  void LoadQueue(const Entry& section, QueueConfig& queue) {
    ForEach(section,
            {"path", "retry_interval", "max_age", "delay_warning", "active_limit",
             "active_window_per_domain"},
            [&](const Entry& e) {
              if (e.key == "active_limit") {
                ReadUint32(e, queue.active_limit, 1);
              } else if (e.key == "active_window_per_domain") {
                ReadUint32(e, queue.active_window_per_domain, 1);
              } else if (e.key == "path") {
                ReadString(e, queue.path, false);
              } else if (e.key == "retry_interval") {
                ReadDuration(e, queue.retry_interval, false);
              } else if (e.key == "max_age") {
                ReadDuration(e, queue.max_age, false);
              } else if (e.key == "delay_warning") {
                std::string word = e.value.IsScalar() ? Lower(e.value.Scalar()) : "";
                if (e.value.IsNull() || word == "off" || word == "false" || word == "no") {
                  queue.delay_warning.reset();
                  return;
                }
                Duration value{};
                size_t before = ProblemCount();
                ReadDuration(e, value, false);
                if (ProblemCount() == before) queue.delay_warning = value;
              }
            });
  }

  void LoadDelivery(const Entry& section, DeliveryConfig& delivery) {
    ForEach(section,
            {"probe_interval", "connect_timeout", "command_timeout",
             "max_connections_per_destination", "outbound_relay", "idle_timeout",
             "mx_resolver_threads", "mx_cache_entries", "mx_idle_timeout"},
            [&](const Entry& e) {
              if (e.key == "probe_interval") {
                ReadDuration(e, delivery.probe_interval, false);
              } else if (e.key == "connect_timeout") {
                ReadDuration(e, delivery.connect_timeout, false);
              } else if (e.key == "command_timeout") {
                ReadDuration(e, delivery.command_timeout, false);
              } else if (e.key == "max_connections_per_destination") {
                ReadUint32(e, delivery.max_connections_per_destination, 1);
              } else if (e.key == "idle_timeout") {
                ReadDuration(e, delivery.idle_timeout, true);
              } else if (e.key == "mx_resolver_threads") {
                ReadUint32(e, delivery.mx_resolver_threads, 1, 64);
              } else if (e.key == "mx_cache_entries") {
                ReadUint32(e, delivery.mx_cache_entries, 1);
              } else if (e.key == "mx_idle_timeout") {
                ReadDuration(e, delivery.mx_idle_timeout, false);
              } else if (e.key == "outbound_relay") {
                std::string relay;
                ReadString(e, relay, true);
                relay = Trim(relay);
                if (!relay.empty() && !ParseDestination(relay)) {
                  Problem(e.loc, "`delivery.outbound_relay`: bad destination `" + relay +
                                     "` (expected [ip]:port, host or host:port)");
                  return;
                }
                delivery.outbound_relay = relay;
              }
            });
  }

  void LoadAdmin(const Entry& section, AdminConfig& admin) {
    std::optional<Loc> token_loc;
    ForEach(section, {"listen", "token", "token_file", "rate_limit", "rate_burst", "tls"},
            [&](const Entry& e) {
              if (e.key == "tls") return LoadTls(e, admin.tls);
              if (e.key == "rate_limit") return ReadUint32(e, admin.rate_limit, 1);
              if (e.key == "rate_burst") return ReadUint32(e, admin.rate_burst, 1);
              if (e.key == "listen") {
                auto text = Scalar(e, "an address such as 127.0.0.1:8025");
                if (!text) return;
                auto address = ParseListenAddress(*text);
                if (!address) {
                  Problem(e.loc, "`admin.listen`: bad address `" + *text +
                                     "` (expected IP:PORT, [IPv6]:PORT or *:PORT)");
                  return;
                }
                admin.listen = *address;
                admin_listen_loc_ = e.loc;
              } else if (e.key == "token") {
                if (token_loc) {
                  Problem(e.loc, "`admin.token` and `admin.token_file` are mutually exclusive");
                  return;
                }
                token_loc = e.loc;
                std::string token;
                ReadString(e, token, false);
                if (!token.empty()) admin.token = Trim(token);
              } else if (e.key == "token_file") {
                if (token_loc) {
                  Problem(e.loc, "`admin.token` and `admin.token_file` are mutually exclusive");
                  return;
                }
                token_loc = e.loc;
                std::string path;
                ReadString(e, path, false);
                if (path.empty()) return;
                std::string error;
                auto text = ReadFile(path, &error);
                if (!text) {
                  Problem(e.loc, "`admin.token_file`: cannot open `" + path + "`: " + error);
                } else if (Trim(*text).empty()) {
                  Problem(e.loc, "`admin.token_file`: `" + path + "` is empty");
                } else {
                  admin.token = Trim(*text);
                }
              }
            });
  }

  void LoadFilters(const Entry& section, FiltersConfig& filters) {
    ForEach(section, {"rspamd", "clamav"}, [&](const Entry& e) {
      if (e.key == "rspamd") {
        ForEach(e, {"url", "timeout", "on_failure", "max_connections"}, [&](const Entry& r) {
          if (r.key == "url") {
            std::string url;
            ReadString(r, url, false);
            if (url.empty()) return;
            if (!IsHttpUrl(url) && !IsUnixSocketUrl(url)) {
              Problem(r.loc, "`filters.rspamd.url`: expected an http:// URL or unix:/PATH, got `" +
                                 url + "`");
              return;
            }
            filters.rspamd.url = url;
          } else if (r.key == "timeout") {
            ReadDuration(r, filters.rspamd.timeout, false);
          } else if (r.key == "on_failure") {
            ReadOnFailure(r, filters.rspamd.on_failure);
          } else if (r.key == "max_connections") {
            ReadUint32(r, filters.rspamd.max_connections, 1, 10000);
          }
        });
      } else if (e.key == "clamav") {
        ForEach(e,
                {"database", "on_failure", "temp_dir", "timeout", "reload_interval", "threads",
                 "isolation", "worker_memory"},
                [&](const Entry& c) {
                  if (c.key == "database") {
                    ReadString(c, filters.clamav.database, false);
                  } else if (c.key == "on_failure") {
                    ReadOnFailure(c, filters.clamav.on_failure);
                  } else if (c.key == "temp_dir") {
                    ReadString(c, filters.clamav.temp_dir, false);
                  } else if (c.key == "timeout") {
                    ReadDuration(c, filters.clamav.timeout, false);
                  } else if (c.key == "reload_interval") {
                    ReadDuration(c, filters.clamav.reload_interval, false);
                  } else if (c.key == "threads") {
                    ReadUint32(c, filters.clamav.threads, 0, 256);
                  } else if (c.key == "isolation") {
                    ReadChoice<ClamavIsolation>(c, filters.clamav.isolation,
                                                {{"process", ClamavIsolation::kProcess},
                                                 {"in_process", ClamavIsolation::kInProcess}});
                  } else if (c.key == "worker_memory") {
                    ReadSize(c, filters.clamav.worker_memory, true);
                  }
                });
      }
    });
  }

  void LoadProvisioning(const Entry& section, ProvisioningConfig& p) {
    ForEach(section, {"path", "require_verification"}, [&](const Entry& e) {
      if (e.key == "path") ReadString(e, p.path, true);
      if (e.key == "require_verification") ReadBool(e, p.require_verification);
    });
  }

  void LoadCluster(const Entry& section, ClusterConfig& c) {
    ForEach(section, {"store", "node", "heartbeat_interval", "health_poll"}, [&](const Entry& e) {
      if (e.key == "node") ReadString(e, c.node, false);
      if (e.key == "heartbeat_interval") ReadDuration(e, c.heartbeat_interval, false);
      if (e.key == "health_poll") ReadDuration(e, c.health_poll, false);
      if (e.key != "store") return;
      ReadString(e, c.store, true);
      if (!c.store.empty() && c.store.rfind("postgresql://", 0) != 0 &&
          c.store.rfind("postgres://", 0) != 0) {
        size_t scheme = c.store.find("://");  // the rest may hold a password: not echoed
        Problem(e.loc,
                "`cluster.store`: expected empty (the embedded store) or a postgresql:// "
                "or postgres:// URL, got " +
                    (scheme == std::string::npos ? std::string("no URL scheme")
                                                 : "`" + c.store.substr(0, scheme + 3) + "...`"));
        c.store.clear();
      }
    });
  }

  void LoadDns(const Entry& section, DnsConfig& dns) {
    ForEach(section, {"servers"}, [&](const Entry& e) {
      if (!e.value.IsSequence()) {
        Problem(e.loc, Quote(e) + ": expected a list such as [\"127.0.0.1:5353\"]");
        return;
      }
      auto items = ReadList(e);
      if (!items) return;
      for (const auto& [text, loc] : *items) {
        std::string t = Trim(text);
        auto address = ParseListenAddress(t.find(':') == std::string::npos ? t + ":53" : t);
        in_addr ignored;
        if (!address || inet_pton(AF_INET, address->host.c_str(), &ignored) != 1) {
          Problem(loc, Quote(e) + ": bad server `" + text + "` (expected an IPv4 ip or ip:port)");
          continue;
        }
        if (address->port == 0) address->port = 53;
        dns.servers.push_back(*address);
      }
    });
  }

  // SPEC section 11. Token files are only named here: the alert engine reads them.
  void LoadAlerts(const Entry& section, AlertsConfig& a) {
    const std::vector<std::pair<std::string_view, Duration*>> durations = {
        {"grace", &a.grace},
        {"repeat", &a.repeat},
        {"retry_for", &a.retry_for},
        {"retry_min", &a.retry_min},
        {"retry_max", &a.retry_max},
        {"up_wait", &a.up_wait},
        {"http_timeout", &a.http_timeout}};
    std::vector<std::string_view> known = {"brand", "sms"};
    for (const auto& [key, out] : durations) known.push_back(key);
    Loc retry_loc;
    ForEach(section, known, [&](const Entry& e) {
      if (e.key == "brand") return LoadAlertBrand(e, a.brand);
      if (e.key == "sms") return LoadSms(e, a.sms);
      for (const auto& [key, out] : durations)
        if (e.key == key) ReadDuration(e, *out, false);
      if (e.key == "retry_min" || (e.key == "retry_max" && retry_loc.line == 0)) retry_loc = e.loc;
    });
    if (a.retry_min > a.retry_max)
      Problem(retry_loc, "`alerts.retry_min` must not be above `alerts.retry_max`");
  }

  void LoadAlertBrand(const Entry& section, AlertBrand& brand) {
    ForEach(section, {"product_name", "from", "from_name", "support_email", "logo_url"},
            [&](const Entry& e) {
              if (e.key == "product_name") return ReadString(e, brand.product_name, false);
              if (e.key == "from_name") return ReadString(e, brand.from_name, true);
              std::string& out = e.key == "from"       ? brand.from
                                 : e.key == "logo_url" ? brand.logo_url
                                                       : brand.support_email;
              ReadString(e, out, true);
              out = Trim(out);
              bool url = e.key == "logo_url";
              if (out.empty() || (url ? IsHttpUrl(out) : LooksLikeAddress(out))) return;
              Problem(e.loc,
                      Quote(e) + (url ? ": expected an http:// or https:// URL, got `" + out + "`"
                                      : ": `" + out + "` is not an address (local@domain)"));
            });
  }

  // twilio: form POST with basic auth account:token. webhook: JSON POST to `url`, with
  // `Authorization: Bearer <token>` when token_file is set. none: no SMS.
  void LoadSms(const Entry& section, SmsConfig& sms) {
    Loc kind_loc = section.loc;
    ForEach(section, {"kind", "url", "account", "token_file", "from", "timeout"},
            [&](const Entry& e) {
              if (e.key == "kind") {
                kind_loc = e.loc;
                ReadChoice<SmsKind>(e, sms.kind,
                                    {{"twilio", SmsKind::kTwilio},
                                     {"webhook", SmsKind::kWebhook},
                                     {"none", SmsKind::kNone}});
              } else if (e.key == "timeout") {
                ReadDuration(e, sms.timeout, false);
              } else if (e.key == "url") {
                ReadString(e, sms.url, true);
                if (!sms.url.empty() && !IsHttpUrl(sms.url)) {
                  Problem(e.loc, "`alerts.sms.url`: expected an http:// or https:// URL, got `" +
                                     sms.url + "`");
                }
              } else {
                ReadString(e,
                           e.key == "account" ? sms.account
                           : e.key == "from"  ? sms.from
                                              : sms.token_file,
                           true);
              }
            });
    if (sms.kind == SmsKind::kNone) return;
    std::string kind = sms.kind == SmsKind::kTwilio ? "twilio" : "webhook";
    std::vector<std::pair<const char*, const std::string*>> required = {{"url", &sms.url}};
    if (sms.kind == SmsKind::kTwilio)
      required.insert(
          required.end(),
          {{"account", &sms.account}, {"token_file", &sms.token_file}, {"from", &sms.from}});
    for (const auto& [key, value] : required) {
      if (Trim(*value).empty())
        Problem(kind_loc, "`alerts.sms." + std::string(key) +
                              "` is required when `alerts.sms.kind` is " + kind);
    }
  }

  void LoadUsage(const Entry& section, UsageConfig& usage) {
    ForEach(section, {"retention_days", "flush_interval"}, [&](const Entry& e) {
      if (e.key == "retention_days") return ReadUint32(e, usage.retention_days, 1, 3650);
      Duration value{};
      size_t before = ProblemCount();
      ReadDuration(e, value, false);
      if (ProblemCount() != before) return;
      if (value < std::chrono::seconds(1) || value > std::chrono::hours(1)) {
        Problem(e.loc, "`usage.flush_interval`: expected 1s to 1h, got `" + e.value.Scalar() + "`");
      } else {
        usage.flush_interval = value;
      }
    });
  }

  void LoadCallout(const Entry& section, CalloutConfig& callout) {
    ForEach(section, {"valid_for", "invalid_for", "max_entries", "max_concurrent", "timeout"},
            [&](const Entry& e) {
              if (e.key == "valid_for") {
                ReadDuration(e, callout.valid_for, false);
              } else if (e.key == "invalid_for") {
                ReadDuration(e, callout.invalid_for, false);
              } else if (e.key == "max_entries") {
                ReadUint32(e, callout.max_entries, 1);
              } else if (e.key == "max_concurrent") {
                ReadUint32(e, callout.max_concurrent, 1, 1000);
              } else if (e.key == "timeout") {
                ReadDuration(e, callout.timeout, false);
              }
            });
  }

  void LoadLog(const Entry& section, LogConfig& log) {
    ForEach(section, {"file"}, [&](const Entry& e) { ReadString(e, log.file, true); });
  }

  void LoadDomains(const Entry& section, std::map<std::string, DomainConfig>& domains) {
    ForEach(section, {}, [&](const Entry& e) {
      std::string name = Lower(Trim(e.key));
      if (!name.empty() && name.back() == '.') name.pop_back();
      if (!LooksLikeDomain(name, false)) {
        Problem(e.key_loc, "`" + e.key +
                               "` is not a domain name (letters, digits, hyphens and dots; "
                               "no IP addresses)");
        return;
      }
      if (domains.count(name) != 0) {
        Problem(e.key_loc, "domain `" + name + "` is listed twice");
        return;
      }
      DomainConfig domain;
      domain.name = name;
      if (LoadDomain(e, domain)) domains.emplace(name, std::move(domain));
    });
  }

  // Returns false when the domain lacks its destinations.
  bool LoadDomain(const Entry& section, DomainConfig& domain) {
    bool has_destinations = false;
    ForEach(section,
            {"destinations", "filtering", "spam", "virus", "tls", "recipients",
             "recipient_verification"},
            [&](const Entry& e) {
              if (e.key == "destinations") {
                has_destinations = true;
                LoadDestinations(e, domain);
              } else if (e.key == "filtering") {
                ReadBool(e, domain.filtering);
              } else if (e.key == "spam") {
                LoadSpam(e, domain.spam);
              } else if (e.key == "virus") {
                ReadChoice<VirusAction>(e, domain.virus, {{"reject", VirusAction::kReject}});
              } else if (e.key == "tls") {
                ReadChoice<TlsPolicy>(e, domain.tls,
                                      {{"opportunistic", TlsPolicy::kOpportunistic},
                                       {"required", TlsPolicy::kRequired},
                                       {"verify", TlsPolicy::kVerify}});
              } else if (e.key == "recipients") {
                LoadRecipients(e, domain);
              } else if (e.key == "recipient_verification") {
                ReadChoice<RecipientVerification>(e, domain.recipient_verification,
                                                  {{"off", RecipientVerification::kOff},
                                                   {"callout", RecipientVerification::kCallout}});
              }
            });
    if (!has_destinations && (section.value.IsNull() || section.value.IsMap())) {
      Problem(section.key_loc, "domain `" + domain.name + "` has no `destinations`");
    }
    return has_destinations;
  }

  void LoadDestinations(const Entry& e, DomainConfig& domain) {
    if (!e.value.IsSequence()) {
      Problem(e.loc, Quote(e) +
                         ": expected a list such as [\"mail.example.com\", "
                         "\"[192.0.2.10]:2525\"]");
      return;
    }
    auto items = ReadList(e);
    if (!items) return;
    if (items->empty()) {
      Problem(e.loc, Quote(e) + " must list at least one destination");
      return;
    }
    for (const auto& [text, loc] : *items) {
      auto destination = ParseDestination(text);
      if (!destination) {
        Problem(loc, Quote(e) + ": bad destination `" + text +
                         "` (expected host, host:port, [ip]:port or [host]:port)");
        continue;
      }
      domain.destinations.push_back(*destination);
    }
  }

  void LoadSpam(const Entry& section, SpamPolicy& spam) {
    Loc reject_loc;
    ForEach(section, {"tag_score", "reject_score", "subject_tag"}, [&](const Entry& e) {
      if (e.key == "tag_score") {
        ReadScore(e, spam.tag_score);
      } else if (e.key == "reject_score") {
        ReadScore(e, spam.reject_score);
        reject_loc = e.loc;
      } else if (e.key == "subject_tag") {
        ReadString(e, spam.subject_tag, true);
      }
    });
    if (std::string why = CheckScores(spam); !why.empty())
      Problem(reject_loc.line > 0 ? reject_loc : section.loc, Quote(section) + ": " + why);
  }

  void LoadRecipients(const Entry& e, DomainConfig& domain) {
    if (e.value.IsNull()) return;
    if (!e.value.IsSequence()) {
      Problem(e.loc, Quote(e) + ": expected a list of addresses or local parts");
      return;
    }
    auto items = ReadList(e);
    if (!items) return;
    for (const auto& [text, loc] : *items) {
      std::string recipient;
      std::string why = CheckRecipient(text, domain.name, &recipient);
      if (!why.empty()) {
        Problem(loc, Quote(e) + ": " + why);
        continue;
      }
      if (std::find(domain.recipients.begin(), domain.recipients.end(), recipient) ==
          domain.recipients.end()) {
        domain.recipients.push_back(recipient);
      }
    }
  }

  Loc admin_listen_loc_;
};

}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(Join(problems)), problems_(std::move(problems)) {}

Config LoadConfigFromString(const std::string& text, const std::string& name) {
  return Loader(name).Load(text);
}

std::string ControlStorePath(const Config& config) {
  if (!config.provisioning.path.empty()) return config.provisioning.path;
  std::string q = config.queue.path;
  while (q.size() > 1 && q.back() == '/') q.pop_back();
  return q + "-control";
}

Config LoadConfig(const std::string& path) {
  std::string error;
  auto text = ReadFile(path, &error);
  if (!text) throw ConfigError({path + ": cannot open: " + error});
  return LoadConfigFromString(*text, path);
}

}  // namespace sw::config
