// Owns one spamweeder daemon under test: writes its YAML config, starts it, finds its SMTP port.
// Fails by gtest AssertionResult carrying the daemon's log; the daemon dies with this object.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/harness/process.h"
#include "tests/integration/harness/smtp_client.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {

struct DomainSpec {
  std::string name;
  std::vector<std::string> destinations;    // e.g. "[127.0.0.1]:2526"
  std::vector<std::string> recipients;      // empty: any address
  std::string tls = "opportunistic";        // towards destinations
  bool filtering = false;                   // SpamWeeder Premium (filter tests)
  std::string spam = "";                    // flow map, e.g. "{tag_score: 5}"; empty: the defaults
  std::string recipient_verification = "";  // "off" | "callout"; empty: not written (off)
};

// Everything the tests vary; defaults are fast and roomy (SPEC section 3 keys only).
struct GatewayOptions {
  std::string hostname = "mx.gateway.test";
  uint64_t max_message_size = 10ull * 1024 * 1024;
  uint32_t max_recipients = 100;
  uint32_t max_connections = 1000;
  uint32_t max_connections_per_ip = 20;
  uint32_t max_errors = 10;
  std::string command_timeout = "10s";
  std::string data_timeout = "10s";
  std::string retry_interval = "1s";
  std::string probe_interval = "1s";
  std::string connect_timeout = "2s";
  std::string delivery_command_timeout = "10s";
  std::string max_age = "30d";
  std::string delay_warning = "off";
  std::string outbound_relay;  // "[127.0.0.1]:PORT" for DSNs
  uint32_t max_connections_per_destination = 20;
  std::string min_free_space = "1MiB";          // below it MAIL gets 452 4.3.1
  std::string max_inflight_data;                // empty: the default
  std::optional<std::string> received_product;  // server.received_product; none: the default
  std::string tls_certificate;                  // both set: STARTTLS offered
  std::string tls_key;
  // server.tls.certificates (SNI): {certificate, key} pairs; tls_min_version empty: the default.
  std::vector<std::pair<std::string, std::string>> tls_certificates;
  std::string tls_min_version;
  std::vector<DomainSpec> domains;
  std::string filters_yaml;   // the whole `filters:` section (filter tests); empty: defaults
  std::string extra_yaml;     // more top-level sections (`provisioning:`, `dns:`), appended
  std::string admin_yaml;     // more `admin:` keys, each line indented by two spaces (`  tls:`)
  std::string delivery_yaml;  // more `delivery:` keys, likewise (`  mx_idle_timeout: 1s`)
  std::string queue_yaml;     // more `queue:` keys, the same way (`  active_limit: 10\n`)
};

// The YAML text for `opts` with the queue at `queue_path`.
std::string GatewayConfigYaml(const GatewayOptions& opts, const std::string& queue_path);

class GatewayProcess {
 public:
  // All files (config, queue, logs) live under `work_dir`, which must outlive this object.
  GatewayProcess(std::string work_dir, GatewayOptions opts);
  ~GatewayProcess();
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  // (Re)writes the config and starts the daemon on the same queue; each start logs to a new
  // file. Succeeds once `event=listening service=smtp` and `event=started` were logged.
  ::testing::AssertionResult Start(Millis timeout = 20s);
  uint16_t port() const { return port_; }
  // The admin API's port (`event=listening service=admin`, admin.listen is 127.0.0.1:0);
  // 0 when the daemon logged none. The token is kAdminToken.
  uint16_t admin_port() const { return admin_port_; }
  static constexpr const char* kAdminToken = "integration-test-token";
  bool running() const { return proc_.running(); }
  Process& process() { return proc_; }
  GatewayOptions& options() { return opts_; }

  // SIGKILL, reaped.
  ExitStatus Kill9() { return proc_.Kill(); }
  // SIGTERM, then up to `timeout` for a clean exit; nullopt if still running (then killed).
  std::optional<ExitStatus> Sigterm(Millis timeout);

  const LogFile& log() const { return logs_.back(); }  // the current (last) run
  std::string AllLogs() const;                         // every run, concatenated
  size_t CountInAllLogs(const std::string& regex) const;
  std::string config_path() const { return dir_ + "/spamweeder.yaml"; }
  std::string queue_path() const { return dir_ + "/queue"; }

 private:
  std::string dir_;
  GatewayOptions opts_;
  Process proc_;
  std::vector<LogFile> logs_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
};

// Regexes for the log lines of SPEC section 9 (one key=value line per event).
std::string QueuedRe(const std::string& id = "[0-9A-F]{16}");
std::string DeliveredRe(const std::string& id = "[0-9A-F]{16}");
std::string DeferredRe(const std::string& id = "[0-9A-F]{16}");

// True if `r` arrived and its last line starts with `prefix`, e.g. "554 5.7.1".
::testing::AssertionResult ReplyIs(const std::optional<Reply>& r, const std::string& prefix);
// Connects, expects the 220 greeting and a 250 to `EHLO helo`.
::testing::AssertionResult OpenSession(SmtpClient& c, uint16_t port,
                                       const std::string& helo = "client.test");

// A fixture with a running sink (started first) and a gateway whose domains relay to it:
// example.com (any recipient) and listed.test (recipients alice, bob@listed.test).
class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Default options with both domains pointing at the sink.
  GatewayOptions DefaultOptions() const;
  // Starts the gateway with `opts` (DefaultOptions() when omitted).
  ::testing::AssertionResult StartGateway();
  ::testing::AssertionResult StartGateway(GatewayOptions opts);
  uint16_t port() const { return gw_->port(); }
  // Sends one message through the gateway; ADD_FAILUREs unless it is accepted.
  std::string SendOk(const Envelope& env, const std::string& data);
  // Waits for the delivery of the message carrying `marker` (unique text in its data).
  std::optional<SinkMessage> AwaitDelivery(const std::string& marker, Millis timeout = 20s);

  TempDir dir_;
  TestSmtpServer sink_;
  std::unique_ptr<GatewayProcess> gw_;
};

}  // namespace sw::it
