// Owns one spamweeder daemon under test: writes its YAML config, starts it, finds its SMTP port.
// Fails by gtest AssertionResult carrying the daemon's log; the daemon dies with this object.
#include "tests/integration/harness/gateway_process.h"

#include <signal.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#ifndef SW_BINARY
#error "SW_BINARY must name the spamweeder executable"
#endif

namespace sw::it {

namespace {

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string QuotedList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + Quote(items[i]);
  return out + "]";
}

}  // namespace

std::string GatewayConfigYaml(const GatewayOptions& o, const std::string& queue_path) {
  std::ostringstream y;
  y << "# Written by the integration test harness.\n"
    << "server:\n"
    << "  hostname: " << o.hostname << "\n"
    << "  listen: [\"127.0.0.1:0\"]\n"
    << "  max_message_size: " << o.max_message_size << "\n"
    << "  max_recipients: " << o.max_recipients << "\n"
    << "  max_connections: " << o.max_connections << "\n"
    << "  max_connections_per_ip: " << o.max_connections_per_ip << "\n"
    << "  max_errors: " << o.max_errors << "\n"
    << "  min_free_space: " << o.min_free_space << "\n"
    << "  timeouts: { command: " << o.command_timeout << ", data: " << o.data_timeout << " }\n";
  if (!o.max_inflight_data.empty()) y << "  max_inflight_data: " << o.max_inflight_data << "\n";
  if (o.received_product) y << "  received_product: " << Quote(*o.received_product) << "\n";
  if (!o.tls_certificate.empty()) {
    y << "  tls:\n    certificate: " << Quote(o.tls_certificate)
      << "\n    key: " << Quote(o.tls_key) << "\n";
    if (!o.tls_min_version.empty()) y << "    min_version: \"" << o.tls_min_version << "\"\n";
    if (!o.tls_certificates.empty()) y << "    certificates:\n";
    for (const auto& [cert, key] : o.tls_certificates)
      y << "      - { certificate: " << Quote(cert) << ", key: " << Quote(key) << " }\n";
  }
  y << "queue:\n"
    << "  path: " << Quote(queue_path) << "\n"
    << "  retry_interval: " << o.retry_interval << "\n"
    << "  max_age: " << o.max_age << "\n"
    << "  delay_warning: " << o.delay_warning << "\n";
  if (!o.queue_yaml.empty()) y << o.queue_yaml;
  y << "delivery:\n"
    << "  probe_interval: " << o.probe_interval << "\n"
    << "  connect_timeout: " << o.connect_timeout << "\n"
    << "  command_timeout: " << o.delivery_command_timeout << "\n"
    << "  max_connections_per_destination: " << o.max_connections_per_destination << "\n"
    << "  outbound_relay: " << Quote(o.outbound_relay) << "\n"
    << o.delivery_yaml << "admin:\n"
    << "  listen: 127.0.0.1:0\n"
    << "  token: integration-test-token\n"
    << o.admin_yaml << "domains:\n";
  for (const auto& d : o.domains) {
    y << "  " << d.name << ":\n"
      << "    destinations: " << QuotedList(d.destinations) << "\n"
      << "    filtering: " << (d.filtering ? "true" : "false") << "\n"
      << "    tls: " << d.tls << "\n";
    if (!d.recipients.empty()) y << "    recipients: " << QuotedList(d.recipients) << "\n";
    if (!d.spam.empty()) y << "    spam: " << d.spam << "\n";
    if (!d.recipient_verification.empty())
      y << "    recipient_verification: " << d.recipient_verification << "\n";
  }
  if (!o.filters_yaml.empty()) y << o.filters_yaml;
  if (!o.extra_yaml.empty()) y << o.extra_yaml;
  return y.str();
}

GatewayProcess::GatewayProcess(std::string work_dir, GatewayOptions opts)
    : dir_(std::move(work_dir)), opts_(std::move(opts)) {}

GatewayProcess::~GatewayProcess() {
  if (proc_.running()) proc_.Terminate(5s);
}

::testing::AssertionResult GatewayProcess::Start(Millis timeout) {
  if (proc_.running()) return ::testing::AssertionFailure() << "gateway already running";
  if (!WriteFile(config_path(), GatewayConfigYaml(opts_, queue_path())))
    return ::testing::AssertionFailure() << "cannot write " << config_path();
  logs_.emplace_back(dir_ + "/gateway-" + std::to_string(logs_.size() + 1) + ".log");
  port_ = 0;
  admin_port_ = 0;
  std::string error;
  if (!proc_.Start({SW_BINARY, "serve", "-c", config_path()}, log().path(), &error))
    return ::testing::AssertionFailure() << "cannot start " << SW_BINARY << ": " << error;
  std::optional<LogMatch> listening, started;
  std::optional<ExitStatus> exited;
  PollUntil(
      [&] {
        if (!listening)
          listening = log().Find(
              "event=listening\\b.*\\bservice=smtp\\b.*\\baddr=127\\.0\\.0\\.1:([0-9]+)");
        if (listening && !started) started = log().Find("event=started\\b");
        if (listening && started) return true;
        exited = proc_.Wait(0ms);
        return exited.has_value();
      },
      timeout);
  if (!listening || !started) {
    auto failure = ::testing::AssertionFailure();
    if (exited) {
      failure << "spamweeder exited (" << exited->ToString() << ") before it was ready";
    } else {
      proc_.Kill();
      failure << "spamweeder not ready within " << timeout.count() << " ms";
    }
    return failure << "\nconfig:\n" << ReadFile(config_path()) << "log:\n" << log().Text();
  }
  port_ = static_cast<uint16_t>(std::stoi(listening->groups[1]));
  // Logged before `started`, so it is there by now if the daemon serves the admin API.
  if (auto admin =
          log().Find("event=listening\\b.*\\bservice=admin\\b.*\\baddr=127\\.0\\.0\\.1:([0-9]+)"))
    admin_port_ = static_cast<uint16_t>(std::stoi(admin->groups[1]));
  return ::testing::AssertionSuccess();
}

std::optional<ExitStatus> GatewayProcess::Sigterm(Millis timeout) {
  if (!proc_.Signal(SIGTERM)) return std::nullopt;
  auto st = proc_.Wait(timeout);
  if (!st) proc_.Kill();
  return st;
}

std::string GatewayProcess::AllLogs() const {
  std::string all;
  for (const auto& l : logs_) all += "==> " + l.path() + " <==\n" + l.Text();
  return all;
}

size_t GatewayProcess::CountInAllLogs(const std::string& regex) const {
  size_t n = 0;
  for (const auto& l : logs_) n += l.Count(regex);
  return n;
}

std::string QueuedRe(const std::string& id) { return "event=queued\\b.*\\bid=" + id + "\\b"; }
std::string DeliveredRe(const std::string& id) { return "event=delivered\\b.*\\bid=" + id + "\\b"; }
std::string DeferredRe(const std::string& id) { return "event=deferred\\b.*\\bid=" + id + "\\b"; }

::testing::AssertionResult ReplyIs(const std::optional<Reply>& r, const std::string& prefix) {
  if (!r) return ::testing::AssertionFailure() << "no reply (want " << prefix << ")";
  if (r->last().rfind(prefix, 0) != 0)
    return ::testing::AssertionFailure() << "got " << *r << ", want " << prefix;
  return ::testing::AssertionSuccess() << *r;
}

::testing::AssertionResult OpenSession(SmtpClient& c, uint16_t port, const std::string& helo) {
  if (!c.Connect(port)) return ::testing::AssertionFailure() << c.error();
  auto greeting = c.ReadReply();
  if (!greeting || greeting->code != 220)
    return ::testing::AssertionFailure()
           << "greeting: " << (greeting ? greeting->text() : c.error());
  auto ehlo = c.Command("EHLO " + helo);
  if (!ehlo || ehlo->code != 250)
    return ::testing::AssertionFailure() << "EHLO: " << (ehlo ? ehlo->text() : c.error());
  return ::testing::AssertionSuccess();
}

void GatewayTest::SetUp() {
  ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
  std::string error;
  ASSERT_TRUE(sink_.Start(0, &error)) << "sink: " << error;
}

void GatewayTest::TearDown() {
  if (HasFailure() && gw_) {
    std::cerr << "---- gateway log(s) ----\n" << gw_->AllLogs() << "------------------------\n";
    for (const auto& e : sink_.errors()) std::cerr << "sink: " << e << "\n";
  }
  gw_.reset();  // stops the daemon before the sink and the temp dir go
  sink_.Stop();
}

GatewayOptions GatewayTest::DefaultOptions() const {
  GatewayOptions o;
  std::string dest = "[127.0.0.1]:" + std::to_string(sink_.port());
  o.domains.push_back({"example.com", {dest}, {}, "opportunistic"});
  o.domains.push_back({"listed.test", {dest}, {"alice", "bob@listed.test"}, "opportunistic"});
  return o;
}

::testing::AssertionResult GatewayTest::StartGateway() { return StartGateway(DefaultOptions()); }

::testing::AssertionResult GatewayTest::StartGateway(GatewayOptions opts) {
  gw_ = std::make_unique<GatewayProcess>(dir_.path(), std::move(opts));
  return gw_->Start();
}

std::string GatewayTest::SendOk(const Envelope& env, const std::string& data) {
  SendResult r = SendMessage(port(), env, data);
  EXPECT_TRUE(r.accepted) << r.error;
  EXPECT_FALSE(r.queue_id.empty())
      << "no queue ID in " << (r.replies.empty() ? Reply{} : r.replies.back());
  return r.queue_id;
}

std::optional<SinkMessage> GatewayTest::AwaitDelivery(const std::string& marker, Millis timeout) {
  return sink_.WaitForMessageContaining(marker, timeout);
}

}  // namespace sw::it
