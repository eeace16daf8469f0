// The admin plane through the real daemon: bearer token on every /api call, list/summary/show
// of a down domain, hold across a restart, flush, delete, bounce, the `queue` CLI, /metrics.
// Fails with the gateway's log dumped by the fixture (GatewayTest::TearDown).
#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "admin/http_client.h"
#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/smtp_client.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {
namespace {

namespace json = boost::json;

std::string Dest(uint16_t port) { return "[127.0.0.1]:" + std::to_string(port); }

DomainSpec Domain(const std::string& name, uint16_t port) {
  DomainSpec d;
  d.name = name;
  d.destinations = {Dest(port)};
  return d;
}

Envelope Env(const std::string& to) {
  Envelope e;
  e.from = "sender@client.test";
  e.to = {to};
  return e;
}

class AdminTest : public GatewayTest {
 protected:
  // Starts the gateway with example.com at the sink and down.test at `down_port_` (nothing
  // listens there until a test starts `late_` on it).
  ::testing::AssertionResult Start(GatewayOptions o) {
    auto r = StartGateway(std::move(o));
    if (r && gw_->admin_port() == 0)
      return ::testing::AssertionFailure() << "no `event=listening service=admin` logged";
    return r;
  }
  GatewayOptions Options() {
    GatewayOptions o = DefaultOptions();
    down_port_ = down_reserved_.port();
    o.domains.push_back(Domain("down.test", down_port_));
    o.outbound_relay = Dest(sink_.port());  // DSNs to senders land in the sink too
    return o;
  }
  admin::HttpResult Api(const std::string& method, const std::string& target,
                        const std::string& token = GatewayProcess::kAdminToken) {
    admin::HttpClient http("127.0.0.1", gw_->admin_port(), token, 10s);
    return http.Call(method, target);
  }
  // A successful call's JSON object (an ADD_FAILURE otherwise).
  json::object Ok(const std::string& method, const std::string& target) {
    admin::HttpResult r = Api(method, target);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.status, 200u) << method << " " << target << ": " << r.body;
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    EXPECT_FALSE(ec) << r.body;
    return !ec && v.is_object() ? v.as_object() : json::object{};
  }
  std::vector<std::string> ListedIds(const std::string& query = "") {
    std::vector<std::string> ids;
    auto doc = Ok("GET", "/api/v1/queue" + query);
    if (auto* m = doc.if_contains("messages"))
      for (auto& e : m->as_array()) ids.push_back(std::string(e.as_object().at("id").as_string()));
    return ids;
  }
  json::object Listed(const std::string& id) {
    auto doc = Ok("GET", "/api/v1/queue");
    if (auto* m = doc.if_contains("messages"))
      for (auto& e : m->as_array())
        if (e.as_object().at("id").as_string() == id) return e.as_object();
    ADD_FAILURE() << id << " not listed";
    return {};
  }
  // Sends to down.test and waits until it was deferred, or queued behind a domain already
  // marked down (such mail waits for the probe without an attempt of its own).
  std::string SendDeferred(const std::string& marker) {
    bool was_down = gw_->log().Find("event=domain_down\\b.*domain=down\\.test").has_value();
    std::string id = SendOk(Env("user@down.test"), SimpleMessage(marker));
    if (was_down) {
      EXPECT_TRUE(gw_->log().WaitFor(QueuedRe(id), 10s)) << "not queued: " << id;
    } else {
      EXPECT_TRUE(gw_->log().WaitFor(DeferredRe(id), 10s)) << "no deferral for " << id;
      EXPECT_TRUE(gw_->log().WaitFor("event=domain_down\\b.*domain=down\\.test", 10s));
    }
    return id;
  }
  // Runs `spamweeder queue -c CONFIG --admin 127.0.0.1:PORT args...`.
  std::optional<ExitStatus> Cli(const std::vector<std::string>& args, std::string* output) {
    std::vector<std::string> argv = {SW_BINARY, "queue",
                                     "-c",      gw_->config_path(),
                                     "--admin", "127.0.0.1:" + std::to_string(gw_->admin_port())};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out = dir_.File("cli-" + std::to_string(++cli_runs_) + ".out");
    std::string error;
    auto st = Process::Run(argv, out, 20s, &error);
    *output = ReadFile(out);
    EXPECT_TRUE(st) << "cli did not finish: " << error;
    return st;
  }

  ClosedPort down_reserved_;  // refuses until `late_` joins it
  uint16_t down_port_ = 0;
  int cli_runs_ = 0;
  TestSmtpServer late_;  // down.test's server, started when a test brings it back
};

TEST_F(AdminTest, EveryApiCallWithoutOrWithAWrongTokenIs401) {
  ASSERT_TRUE(Start(Options()));
  std::string id = SendDeferred("auth-401");
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"GET", "/api/v1/queue"},
      {"GET", "/api/v1/queue?domain=down.test&limit=5"},
      {"GET", "/api/v1/queue/summary"},
      {"GET", "/api/v1/queue/" + id},
      {"DELETE", "/api/v1/queue/" + id},
      {"POST", "/api/v1/queue/" + id + "/flush"},
      {"POST", "/api/v1/queue/" + id + "/hold"},
      {"POST", "/api/v1/queue/" + id + "/release"},
      {"POST", "/api/v1/queue/" + id + "/bounce"},
      {"POST", "/api/v1/domains/down.test/flush"},
      {"POST", "/api/v1/domains/down.test/hold"},
      {"POST", "/api/v1/domains/down.test/release"},
      {"GET", "/api/v1/unknown"}};
  for (const auto& [method, target] : calls) {
    for (const std::string token :
         {"", "wrong-token", "integration-test-token-2", "integration-test-toke"}) {
      admin::HttpResult r = Api(method, target, token);
      ASSERT_TRUE(r.ok) << r.error;
      EXPECT_EQ(r.status, 401u) << method << " " << target << " token [" << token << "]";
      EXPECT_NE(r.body.find("\"error\""), std::string::npos) << r.body;
    }
  }
  // Nothing happened to the message; the right token works; /healthz and /metrics are open.
  auto m = Listed(id);
  EXPECT_FALSE(m["held"].as_bool());
  admin::HttpResult h = Api("GET", "/healthz", "");
  EXPECT_EQ(h.status, 200u) << h.body;
  admin::HttpResult metrics = Api("GET", "/metrics", "");
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_EQ(gw_->log().Count("event=held\\b"), 0u);
}

TEST_F(AdminTest, ListSummaryAndShowReflectADownDestination) {
  ASSERT_TRUE(Start(Options()));
  std::string a = SendDeferred("down-list-a");
  std::string b = SendDeferred("down-list-b");
  EXPECT_TRUE(gw_->log().WaitFor("event=domain_down\\b.*domain=down\\.test", 10s));

  EXPECT_EQ(ListedIds(), (std::vector<std::string>{a, b}));
  EXPECT_EQ(ListedIds("?domain=down.test"), (std::vector<std::string>{a, b}));
  EXPECT_TRUE(ListedIds("?domain=example.com").empty());
  auto page = Ok("GET", "/api/v1/queue?limit=1");
  ASSERT_EQ(page["messages"].as_array().size(), 1u);
  EXPECT_EQ(page["next"].as_string(), a);
  EXPECT_EQ(ListedIds("?limit=1&after=" + a), (std::vector<std::string>{b}));

  auto m = Listed(a);
  EXPECT_EQ(m["sender"].as_string(), "sender@client.test");
  EXPECT_GE(m["attempts"].as_int64(), 1);
  EXPECT_NE(m["last_error"].as_string(), "");
  EXPECT_GT(m["size"].as_int64(), 0);
  EXPECT_FALSE(m["held"].as_bool());
  auto r = m["recipients"].as_array()[0].as_object();
  EXPECT_EQ(r["address"].as_string(), "user@down.test");
  EXPECT_EQ(r["state"].as_string(), "pending");

  auto summary = Ok("GET", "/api/v1/queue/summary");
  bool found = false;
  for (auto& d : summary["domains"].as_array()) {
    auto& o = d.as_object();
    if (o.at("domain").as_string() != "down.test") continue;
    found = true;
    EXPECT_FALSE(o.at("up").as_bool());
    EXPECT_EQ(o.at("messages").as_int64(), 2);
    EXPECT_GT(o.at("bytes").as_int64(), 0);
    EXPECT_EQ(o.at("age_buckets").as_object().at("5m").as_int64(), 2);
  }
  EXPECT_TRUE(found) << json::serialize(summary);

  auto show = Ok("GET", "/api/v1/queue/" + a);
  EXPECT_EQ(show["message"].as_object().at("id").as_string(), a);
  bool subject = false, received = false;
  for (auto& h : show["headers"].as_array()) {
    const auto& f = h.as_array();
    if (f[0].as_string() == "Subject" &&
        std::string(f[1].as_string()).find("down-list-a") != std::string::npos)
      subject = true;
    if (f[0].as_string() == "Received" &&
        std::string(f[1].as_string()).find(a) != std::string::npos)
      received = true;
  }
  EXPECT_TRUE(subject) << json::serialize(show);
  EXPECT_TRUE(received) << "our Received header carries the ID: " << json::serialize(show);
  EXPECT_EQ(Api("GET", "/api/v1/queue/0123456789ABCDEF").status, 404u);
}

TEST_F(AdminTest, HoldSurvivesARestartAndReleaseDelivers) {
  GatewayOptions o = Options();
  ASSERT_TRUE(Start(o));
  std::string held = SendDeferred("hold-restart-held");
  std::string other = SendDeferred("hold-restart-other");
  auto r = Ok("POST", "/api/v1/queue/" + held + "/hold");
  EXPECT_EQ(r["result"].as_string(), "ok");
  EXPECT_TRUE(Listed(held)["held"].as_bool());

  auto st = gw_->Sigterm(10s);
  ASSERT_TRUE(st && st->exited && st->code == 0) << (st ? st->ToString() : "still running");
  ASSERT_TRUE(late_.Start(down_port_)) << "down.test's server cannot take its port";
  ASSERT_TRUE(gw_->Start());  // same queue directory, new log
  ASSERT_NE(gw_->admin_port(), 0);

  // The probe finds the server; the other message drains, the held one stays.
  ASSERT_TRUE(late_.WaitForMessageContaining("hold-restart-other", 15s)) << "drain did not run";
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(late_.MessagesContaining("hold-restart-held").empty()) << "a held message left";
  EXPECT_TRUE(Listed(held)["held"].as_bool()) << "hold not restored from disk";
  EXPECT_EQ(ListedIds(), (std::vector<std::string>{held}));

  Ok("POST", "/api/v1/queue/" + held + "/release");
  EXPECT_TRUE(late_.WaitForMessageContaining("hold-restart-held", 10s)) << "release: no delivery";
  EXPECT_TRUE(gw_->log().WaitFor(DeliveredRe(held), 5s));
  EXPECT_TRUE(PollUntil([&] { return ListedIds().empty(); }, 5s));
  EXPECT_EQ(late_.MessagesContaining("hold-restart-held").size(), 1u);
  late_.Stop();
}

TEST_F(AdminTest, DomainHoldAndRelease) {
  ASSERT_TRUE(Start(Options()));
  std::string a = SendDeferred("domain-hold-a");
  std::string b = SendDeferred("domain-hold-b");
  auto r = Ok("POST", "/api/v1/domains/down.test/hold");
  EXPECT_EQ(r["messages"].as_int64(), 2);
  EXPECT_TRUE(Listed(a)["held"].as_bool());
  EXPECT_TRUE(Listed(b)["held"].as_bool());
  EXPECT_EQ(Api("POST", "/api/v1/domains/nowhere.test/hold").status, 404u);
  ASSERT_TRUE(late_.Start(down_port_));
  r = Ok("POST", "/api/v1/domains/down.test/release");
  EXPECT_EQ(r["messages"].as_int64(), 2);
  EXPECT_TRUE(late_.WaitForCount(2, 15s)) << "released messages not delivered";
  late_.Stop();
}

TEST_F(AdminTest, FlushDeliversADeferredMessageNow) {
  GatewayOptions o = Options();
  o.retry_interval = "1h";
  o.probe_interval = "1h";  // nothing but the flush brings it back in this test's time
  ASSERT_TRUE(Start(o));
  std::string id = SendDeferred("flush-now");
  ASSERT_TRUE(late_.Start(down_port_));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(late_.count(), 0u) << "delivered before the flush (retry timers are 1h)";
  auto t0 = std::chrono::steady_clock::now();
  Ok("POST", "/api/v1/queue/" + id + "/flush");
  ASSERT_TRUE(late_.WaitForMessageContaining("flush-now", 10s)) << "flush did not deliver";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_TRUE(gw_->log().WaitFor(DeliveredRe(id), 5s));
  EXPECT_TRUE(PollUntil([&] { return ListedIds().empty(); }, 5s));
  late_.Stop();
}

TEST_F(AdminTest, DeleteRemovesAMessage) {
  ASSERT_TRUE(Start(Options()));
  std::string gone = SendDeferred("delete-gone");
  std::string kept = SendDeferred("delete-kept");
  Ok("DELETE", "/api/v1/queue/" + gone);
  EXPECT_EQ(ListedIds(), (std::vector<std::string>{kept}));
  EXPECT_EQ(Api("GET", "/api/v1/queue/" + gone).status, 404u);
  EXPECT_EQ(Api("DELETE", "/api/v1/queue/" + gone).status, 404u);
  // The server comes back: only the kept one arrives.
  ASSERT_TRUE(late_.Start(down_port_));
  Ok("POST", "/api/v1/domains/down.test/flush");
  ASSERT_TRUE(late_.WaitForMessageContaining("delete-kept", 15s));
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(late_.MessagesContaining("delete-gone").empty()) << "a deleted message was sent";
  late_.Stop();
}

TEST_F(AdminTest, BounceReturnsTheMessageToItsSender) {
  ASSERT_TRUE(Start(Options()));
  std::string id = SendDeferred("bounce-me");
  Ok("POST", "/api/v1/queue/" + id + "/bounce");
  auto dsn = sink_.WaitForMessageContaining("bounce-me", 15s);
  ASSERT_TRUE(dsn) << "no DSN at the outbound relay";
  EXPECT_EQ(dsn->mail_from, "") << "DSNs use the null sender";
  EXPECT_EQ(dsn->rcpt_to, (std::vector<std::string>{"sender@client.test"}));
  EXPECT_NE(dsn->data.find("multipart/report"), std::string::npos);
  EXPECT_NE(dsn->data.find("user@down.test"), std::string::npos);
  EXPECT_TRUE(PollUntil(
      [&] {
        auto ids = ListedIds();
        return std::find(ids.begin(), ids.end(), id) == ids.end();
      },
      5s))
      << "bounced message still queued";
}

TEST_F(AdminTest, QueueCliListsShowsAndActs) {
  ASSERT_TRUE(Start(Options()));
  std::string id = SendDeferred("cli-list");
  std::string out;
  auto st = Cli({"list"}, &out);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->exited && st->code == 0) << st->ToString() << "\n" << out;
  EXPECT_NE(out.find("-Queue ID-"), std::string::npos) << out;
  EXPECT_NE(out.find(id), std::string::npos) << out;
  EXPECT_NE(out.find("sender@client.test"), std::string::npos) << out;
  EXPECT_NE(out.find("user@down.test"), std::string::npos) << out;
  EXPECT_NE(out.find("1 Request."), std::string::npos) << out;

  st = Cli({"list", "--json", "--domain", "down.test"}, &out);
  ASSERT_TRUE(st && st->exited && st->code == 0) << out;
  boost::system::error_code ec;
  json::value doc = json::parse(out, ec);
  ASSERT_FALSE(ec) << out;
  ASSERT_EQ(doc.as_object().at("messages").as_array().size(), 1u);

  st = Cli({"show", id}, &out);
  ASSERT_TRUE(st && st->exited && st->code == 0) << out;
  EXPECT_NE(out.find("Subject: test cli-list"), std::string::npos) << out;
  EXPECT_NE(out.find("user@down.test  pending"), std::string::npos) << out;

  st = Cli({"summary"}, &out);
  ASSERT_TRUE(st && st->exited && st->code == 0) << out;
  EXPECT_NE(out.find("down.test"), std::string::npos) << out;
  EXPECT_NE(out.find("down "), std::string::npos) << out;

  st = Cli({"hold", id}, &out);
  ASSERT_TRUE(st && st->exited && st->code == 0) << out;
  EXPECT_TRUE(Listed(id)["held"].as_bool());
  st = Cli({"list"}, &out);
  EXPECT_NE(out.find(id + "!"), std::string::npos) << "held marker: " << out;
  st = Cli({"release", "--all"}, &out);
  ASSERT_TRUE(st && st->exited && st->code == 0) << out;
  EXPECT_FALSE(Listed(id)["held"].as_bool());

  st = Cli({"show", "0123456789ABCDEF"}, &out);
  EXPECT_TRUE(st && st->exited && st->code == 1) << "API error is exit 1: " << out;
  st = Cli({"frobnicate"}, &out);
  EXPECT_TRUE(st && st->exited && st->code == 2) << "usage is exit 2: " << out;
  st = Cli({"flush"}, &out);
  EXPECT_TRUE(st && st->exited && st->code == 2) << "flush needs a selector: " << out;

  st = Cli({"delete", id}, &out);
  ASSERT_TRUE(st && st->exited && st->code == 0) << out;
  st = Cli({"list"}, &out);
  EXPECT_NE(out.find("Mail queue is empty"), std::string::npos) << out;

  // A daemon that is not running: exit 1.
  ASSERT_TRUE(gw_->Sigterm(10s));
  st = Cli({"list"}, &out);
  EXPECT_TRUE(st && st->exited && st->code == 1) << out;
  EXPECT_NE(out.find("unreachable"), std::string::npos) << out;
}

TEST_F(AdminTest, MetricsShowCountersAndQueueDepth) {
  ASSERT_TRUE(Start(Options()));
  std::string delivered = SendOk(Env("user@example.com"), SimpleMessage("metrics-delivered"));
  ASSERT_TRUE(AwaitDelivery("metrics-delivered"));
  ASSERT_TRUE(gw_->log().WaitFor(DeliveredRe(delivered), 5s));
  SendDeferred("metrics-deferred");
  // A rejected recipient counts under its reason.
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  ASSERT_TRUE(ReplyIs(c.Command("MAIL FROM:<a@client.test>"), "250"));
  ASSERT_TRUE(ReplyIs(c.Command("RCPT TO:<x@not-ours.test>"), "554 5.7.1"));
  c.Close();

  admin::HttpResult r = Api("GET", "/metrics", "");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.status, 200u);
  const std::string& t = r.body;
  auto has = [&](const std::string& line) {
    return t.find("\n" + line + "\n") != std::string::npos;
  };
  EXPECT_TRUE(has("spamweeder_accepted_total 2")) << t;
  EXPECT_TRUE(has("spamweeder_delivered_total 1")) << t;
  EXPECT_NE(t.find("\nspamweeder_deferred_total "), std::string::npos) << t;
  EXPECT_EQ(t.find("\nspamweeder_deferred_total 0\n"), std::string::npos) << "one deferral: " << t;
  EXPECT_TRUE(has("spamweeder_queue_messages{domain=\"down.test\"} 1")) << t;
  EXPECT_TRUE(has("spamweeder_queue_messages{domain=\"example.com\"} 0")) << t;
  EXPECT_TRUE(has("spamweeder_domain_up{domain=\"down.test\"} 0")) << t;
  EXPECT_TRUE(has("spamweeder_domain_up{domain=\"example.com\"} 1")) << t;
  EXPECT_TRUE(has("spamweeder_rejected_total{reason=\"relay_denied\"} 1")) << t;
  EXPECT_TRUE(has("spamweeder_delivery_latency_seconds_count 1")) << t;
  EXPECT_TRUE(has("# TYPE spamweeder_delivery_latency_seconds histogram")) << t;
  EXPECT_NE(t.find("\nspamweeder_queue_oldest_seconds{domain=\"down.test\"} "), std::string::npos)
      << t;
  EXPECT_TRUE(has("spamweeder_bounced_total 0")) << t;
  EXPECT_TRUE(has("spamweeder_expired_total 0")) << t;
}

}  // namespace
}  // namespace sw::it
