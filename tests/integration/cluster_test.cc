// Owns cluster mode end to end (SPEC section 13, issue 12 items 1, 2 and 4): real gateways on
// the PostgreSQL control store of the ctest fixture `postgres`, one fresh database per test (a
// private cluster for the outage test). Fails with the gateways' logs dumped; without the
// fixture every test fails saying why.
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "admin/http_client.h"
#include "tests/control/postgres_test_support.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/smtp_client.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

const std::string kOperator = GatewayProcess::kAdminToken;

std::string Describe(const admin::HttpResult& r) {
  if (!r.ok) return "transport error: " + r.error;
  return std::to_string(r.status) + " " + r.body.substr(0, 2000);
}

class ClusterTest : public ClusterFixture {
 protected:
  ClusterTest() : ClusterFixture("swit") {}

  // A gateway named `node` (cluster.node) in a work dir of its own, on the test's database
  // (or on `url`).
  GatewayProcess& Node(const std::string& node, const std::string& url = "") {
    auto& slot = nodes_[node];
    if (slot) return *slot;
    dirs_.push_back(std::make_unique<TempDir>());
    GatewayOptions o;
    o.hostname = "mx." + node + ".test";
    o.domains.push_back({"example.com", {Dest()}, {}, "opportunistic"});
    o.extra_yaml =
        "cluster:\n  store: \"" + (url.empty() ? url_ : url) + "\"\n  node: " + node + "\n";
    slot = std::make_unique<GatewayProcess>(dirs_.back()->path(), o);
    return *slot;
  }
  std::string Dest() const { return "[127.0.0.1]:" + std::to_string(sink_.port()); }

  admin::HttpResult Api(GatewayProcess& gw, const std::string& token, const std::string& method,
                        const std::string& target, const std::string& body = "") {
    admin::HttpClient http("127.0.0.1", gw.admin_port(), token, 10s);
    return http.Call(method, target, admin::HttpCallOptions{body, {}});
  }
  // POST that must answer 201; the new object.
  json::object Create(GatewayProcess& gw, const std::string& target, const json::object& body) {
    admin::HttpResult r = Api(gw, kOperator, "POST", target, json::serialize(body));
    EXPECT_EQ(r.status, 201u) << "POST " << target << ": " << Describe(r);
    return ParseObject(r.body);
  }
  // The operator's audit log as seen through `gw`.
  json::array Audit(GatewayProcess& gw) {
    admin::HttpResult r = Api(gw, kOperator, "GET", "/api/v1/audit?limit=1000");
    EXPECT_EQ(r.status, 200u) << Describe(r);
    json::object o = ParseObject(r.body);
    const json::value* e = o.if_contains("entries");
    return e && e->is_array() ? e->as_array() : json::array{};
  }
  // Polls until RCPT TO:<rcpt> on `gw` gets a 250 (a provisioned domain goes live).
  bool TakesMail(GatewayProcess& gw, const std::string& rcpt, Millis timeout = 10s) {
    return PollUntil(
        [&] {
          SmtpClient c;
          if (!OpenSession(c, gw.port())) return false;
          auto mail = c.Command("MAIL FROM:<sender@client.test>", 5s);
          auto r = c.Command("RCPT TO:<" + rcpt + ">", 5s);
          c.Command("QUIT", 2s);
          return mail && mail->code == 250 && r && r->code == 250;
        },
        timeout);
  }
  // Milliseconds until `pred` holds (polled every 20 ms), or -1 after `timeout`.
  template <typename Pred>
  long long MsUntil(Pred pred, Millis timeout) {
    auto start = std::chrono::steady_clock::now();
    if (!PollUntil(pred, timeout)) return -1;
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start)
        .count();
  }
  // A reseller, a customer of it and `domain` (relayed to the sink) created through `gw`; the
  // customer's ID.
  std::string Provision(GatewayProcess& gw, const std::string& domain) {
    std::string r = Str(Create(gw, "/api/v1/resellers", {{"name", "R " + domain}}), "id");
    std::string c = Str(Create(gw, "/api/v1/customers", {{"name", "C"}, {"reseller", r}}), "id");
    EXPECT_FALSE(r.empty() || c.empty());
    Create(gw, "/api/v1/domains", {{"name", domain}, {"customer", c}, {"destinations", {Dest()}}});
    return c;
  }
  // /healthz's "status" on `gw`.
  std::string Health(GatewayProcess& gw) {
    return Str(ParseObject(Api(gw, "", "GET", "/healthz").body), "status");
  }
  // The value of spamweeder_control_store_up on `gw`'s /metrics ("" when absent).
  std::string StoreUpMetric(GatewayProcess& gw) {
    std::string body = Api(gw, "", "GET", "/metrics").body;
    const std::string name = "\nspamweeder_control_store_up ";
    size_t at = body.find(name);
    if (at == std::string::npos) return "";
    size_t from = at + name.size();
    return body.substr(from, body.find('\n', from) - from);
  }
  // Sends a message to `rcpt` through `gw` carrying `marker`; true when accepted.
  bool Send(GatewayProcess& gw, const std::string& rcpt, const std::string& marker) {
    Envelope env;
    env.from = "sender@client.test";
    env.to = {rcpt};
    SendResult sent = SendMessage(gw.port(), env, SimpleMessage(marker));
    EXPECT_TRUE(sent.accepted) << marker << ": " << sent.error;
    return sent.accepted;
  }
  // `spamweeder migrate -c` with `gw`'s config; its exit status and output.
  std::pair<std::optional<ExitStatus>, std::string> Migrate(GatewayProcess& gw) {
    std::string out = gw.config_path() + ".migrate.out", error;
    fs::remove(out);
    auto st = Process::Run({SW_BINARY, "migrate", "-c", gw.config_path()}, out, 30s, &error);
    return {st, ReadFile(out) + error};
  }
};

// (a) One node on PostgreSQL: a domain provisioned through the API takes mail, and is still
// there after a restart, read back from the database (no embedded control dir is made); its
// audit entries name the node.
TEST_F(ClusterTest, NodeRunsOnThePostgresStoreAcrossRestarts) {
  GatewayProcess& a = Node("node-a");
  ASSERT_TRUE(a.Start());
  ASSERT_NE(a.admin_port(), 0);
  EXPECT_TRUE(a.log().Find("event=control_store_opened\\b.*\\bkind=postgresql\\b.*node=node-a"))
      << "the daemon did not say it opened the PostgreSQL store";
  std::string r = Str(Create(a, "/api/v1/resellers", {{"name", "R"}}), "id");
  std::string c = Str(Create(a, "/api/v1/customers", {{"name", "C"}, {"reseller", r}}), "id");
  ASSERT_FALSE(r.empty() || c.empty());
  json::object d{{"name", "cluster-a.test"}, {"customer", c}, {"destinations", {Dest()}}};
  Create(a, "/api/v1/domains", d);
  ASSERT_TRUE(TakesMail(a, "user@cluster-a.test")) << "the provisioned domain never went live";
  Envelope env;
  env.from = "sender@client.test";
  env.to = {"user@cluster-a.test"};
  SendResult sent = SendMessage(a.port(), env, SimpleMessage("cluster-first"));
  ASSERT_TRUE(sent.accepted) << sent.error;
  EXPECT_TRUE(sink_.WaitForMessageContaining("cluster-first", 20s));

  auto st = a.Sigterm(10s);
  ASSERT_TRUE(st && st->exited && st->code == 0) << (st ? st->ToString() : "still running");
  ASSERT_TRUE(a.Start());
  EXPECT_EQ(Api(a, kOperator, "GET", "/api/v1/domains/cluster-a.test").status, 200u);
  sent = SendMessage(a.port(), env, SimpleMessage("cluster-after-restart"));
  ASSERT_TRUE(sent.accepted) << sent.error;
  EXPECT_TRUE(sink_.WaitForMessageContaining("cluster-after-restart", 20s));
  EXPECT_FALSE(fs::exists(a.queue_path() + "-control"))
      << "the embedded control store was created although cluster.store is set";

  bool found = false;
  for (const auto& e : Audit(a)) {
    if (!e.is_object() || Str(e.as_object(), "object") != "cluster-a.test") continue;
    found = true;
    EXPECT_EQ(Str(e.as_object(), "node"), "node-a") << json::serialize(e);
  }
  EXPECT_TRUE(found) << "no audit entry for the domain";
}

// (b) `spamweeder migrate`: a fresh database gets migrations 1 to 3, a second run has nothing
// to do; an unreachable server is exit 1, a config without cluster.store exit 2.
TEST_F(ClusterTest, MigrateAppliesPendingVersionsOnce) {
  GatewayProcess& a = Node("node-a");
  ASSERT_TRUE(WriteFile(a.config_path(), GatewayConfigYaml(a.options(), a.queue_path())));
  auto [st, out] = Migrate(a);
  ASSERT_TRUE(st && st->exited) << out;
  EXPECT_EQ(st->code, 0) << out;
  EXPECT_NE(out.find("applied migration 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("applied migration 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("applied migration 3\n"), std::string::npos) << out;
  std::tie(st, out) = Migrate(a);
  ASSERT_TRUE(st && st->exited) << out;
  EXPECT_EQ(st->code, 0) << out;
  EXPECT_NE(out.find("schema up to date"), std::string::npos) << out;

  GatewayOptions down = a.options();
  down.extra_yaml = "cluster:\n  store: \"postgresql://postgres@127.0.0.1:1/none\"\n";
  ASSERT_TRUE(WriteFile(a.config_path(), GatewayConfigYaml(down, a.queue_path())));
  std::tie(st, out) = Migrate(a);
  ASSERT_TRUE(st && st->exited) << out;
  EXPECT_EQ(st->code, 1) << out;

  GatewayOptions embedded = a.options();
  embedded.extra_yaml.clear();
  ASSERT_TRUE(WriteFile(a.config_path(), GatewayConfigYaml(embedded, a.queue_path())));
  std::tie(st, out) = Migrate(a);
  ASSERT_TRUE(st && st->exited) << out;
  EXPECT_EQ(st->code, 2) << out;
  EXPECT_NE(out.find("nothing to migrate"), std::string::npos) << out;
}

// (c) Two nodes, separate queues, one database. A token made on A works on B once B restarts:
// live propagation between running nodes (issue 12 item 2) is not part of this step, so B
// reads the token at its start. Audit seqs of writes on A and then on B never collide.
TEST_F(ClusterTest, TwoNodesShareTokensAndNumberAuditRowsApart) {
  GatewayProcess& a = Node("node-a");
  GatewayProcess& b = Node("node-b");
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  ASSERT_NE(a.queue_path(), b.queue_path());
  std::string r = Str(Create(a, "/api/v1/resellers", {{"name", "From A"}}), "id");
  json::object t = Create(a, "/api/v1/tokens", {{"account", r}, {"role", "admin"}, {"name", "x"}});
  std::string token = Str(t, "token");
  ASSERT_FALSE(token.empty()) << json::serialize(t);
  // Writes on B while both run: each node reserves its seqs in the database.
  Create(b, "/api/v1/resellers", {{"name", "From B"}});

  auto st = b.Sigterm(10s);
  ASSERT_TRUE(st && st->exited && st->code == 0) << (st ? st->ToString() : "still running");
  ASSERT_TRUE(b.Start());
  admin::HttpResult mine = Api(b, token, "GET", "/api/v1/resellers/" + r);
  EXPECT_EQ(mine.status, 200u) << "node A's token on node B: " << Describe(mine);
  Create(b, "/api/v1/customers", {{"name", "On B"}, {"reseller", r}});
  Create(a, "/api/v1/customers", {{"name", "On A"}, {"reseller", r}});

  std::set<int64_t> seqs;
  std::set<std::string> nodes;
  size_t n = 0;
  for (const auto& e : Audit(b)) {
    if (!e.is_object()) continue;
    ++n;
    seqs.insert(e.as_object().at("seq").to_number<int64_t>());
    nodes.insert(Str(e.as_object(), "node"));
  }
  EXPECT_GE(n, 5u) << "2 resellers, 1 token, 2 customers";
  EXPECT_EQ(seqs.size(), n) << "two nodes gave the same audit seq";
  EXPECT_EQ(nodes, (std::set<std::string>{"node-a", "node-b"}));
}

// (d) Issue 12 item 2: changes propagate between running nodes within 2 s, no restart. A
// domain created on A takes mail on B, a token made on A works on B, a PATCH on B shows on A.
// A node's own writes cause it no reload.
TEST_F(ClusterTest, ChangesPropagateBetweenRunningNodes) {
  GatewayProcess& a = Node("node-a");
  GatewayProcess& b = Node("node-b");
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  std::string customer = Provision(a, "live.test");
  long long ms = MsUntil([&] { return TakesMail(b, "user@live.test", 0s); }, 5s);
  std::cout << "[ measured ] domain created on A takes mail on B after " << ms << " ms\n";
  ASSERT_GE(ms, 0) << "node B never took mail for the domain created on A";
  EXPECT_LT(ms, 2000) << "propagation took longer than 2 s";
  ASSERT_TRUE(Send(b, "user@live.test", "live-via-b"));
  EXPECT_TRUE(sink_.WaitForMessageContaining("live-via-b", 20s));

  json::object t =
      Create(a, "/api/v1/tokens", {{"account", customer}, {"role", "admin"}, {"name", "x"}});
  std::string token = Str(t, "token");
  ASSERT_FALSE(token.empty()) << json::serialize(t);
  ms = MsUntil([&] { return Api(b, token, "GET", "/api/v1/domains/live.test").status == 200; }, 5s);
  std::cout << "[ measured ] token made on A works on B after " << ms << " ms\n";
  ASSERT_GE(ms, 0) << "node A's token never worked on node B";
  EXPECT_LT(ms, 2000);
  EXPECT_EQ(a.log().Count("event=control_(reloaded|changes_applied)\\b"), 0u)
      << "node A reloaded for its own writes";

  admin::HttpResult patched = Api(b, token, "PATCH", "/api/v1/customers/" + customer,
                                  json::serialize(json::object{{"name", "Renamed on B"}}));
  ASSERT_EQ(patched.status, 200u) << Describe(patched);
  ms = MsUntil(
      [&] {
        auto r = Api(a, kOperator, "GET", "/api/v1/customers/" + customer);
        return Str(ParseObject(r.body), "name") == "Renamed on B";
      },
      5s);
  std::cout << "[ measured ] PATCH on B seen on A after " << ms << " ms\n";
  ASSERT_GE(ms, 0) << "node A never saw the PATCH made on B";
  EXPECT_LT(ms, 2000);
  EXPECT_TRUE(a.log().Find("event=control_changes_applied\\b.* records=1 "))
      << "node A read more than the customer B changed";
  EXPECT_EQ(a.log().Count("event=control_reloaded\\b"), 0u) << "a full read, not the change log";
}

// (e) PostgreSQL goes away: both nodes keep taking and delivering mail for the domains they
// know, API writes answer 503, /healthz says degraded, the gauge is 0, one
// control_store_unavailable per outage. It returns: writes succeed and propagate again.
TEST_F(ClusterTest, NodesSurvivePostgresGoingAway) {
  control::pgtest::PrivateCluster pg;
  std::string why;
  ASSERT_TRUE(pg.Start(&why)) << why;
  GatewayProcess& a = Node("node-a", pg.url());
  GatewayProcess& b = Node("node-b", pg.url());
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  std::string customer = Provision(a, "known.test");
  ASSERT_TRUE(TakesMail(b, "user@known.test", 5s));
  EXPECT_EQ(StoreUpMetric(a), "1");

  ASSERT_TRUE(pg.Stop(&why)) << why;
  for (GatewayProcess* gw : {&a, &b}) {
    EXPECT_TRUE(PollUntil([&] { return Health(*gw) == "degraded"; }, 5s))
        << "/healthz: " << Api(*gw, "", "GET", "/healthz").body;
    EXPECT_EQ(Api(*gw, "", "GET", "/healthz").status, 200u);
    EXPECT_EQ(StoreUpMetric(*gw), "0");
    EXPECT_TRUE(gw->log().Find("event=control_store_unavailable\\b"));
  }
  ASSERT_TRUE(Send(a, "one@known.test", "outage-via-a"));
  ASSERT_TRUE(Send(b, "two@known.test", "outage-via-b"));
  ASSERT_TRUE(Send(b, "three@example.com", "outage-file-domain"));
  EXPECT_TRUE(sink_.WaitForMessageContaining("outage-via-a", 20s));
  EXPECT_TRUE(sink_.WaitForMessageContaining("outage-via-b", 20s));
  EXPECT_TRUE(sink_.WaitForMessageContaining("outage-file-domain", 20s));
  admin::HttpResult w =
      Api(a, kOperator, "POST", "/api/v1/domains",
          json::serialize(json::object{
              {"name", "during.test"}, {"customer", customer}, {"destinations", {Dest()}}}));
  EXPECT_EQ(w.status, 503u) << Describe(w);
  EXPECT_EQ(Str(ParseObject(w.body), "error"), "control store unavailable") << w.body;
  EXPECT_EQ(Api(b, kOperator, "GET", "/api/v1/domains/known.test").status, 200u)
      << "reads are served from memory";
  std::this_thread::sleep_for(1500ms);  // several failed reconnects: still one event
  EXPECT_EQ(a.log().Count("event=control_store_unavailable\\b"), 1u);

  ASSERT_TRUE(pg.Start(&why)) << why;
  for (GatewayProcess* gw : {&a, &b}) {
    EXPECT_TRUE(PollUntil([&] { return Health(*gw) == "ok"; }, 10s));
    EXPECT_EQ(StoreUpMetric(*gw), "1");
    EXPECT_TRUE(gw->log().Find("event=control_store_restored\\b"));
  }
  Create(a, "/api/v1/domains",
         {{"name", "after.test"}, {"customer", customer}, {"destinations", {Dest()}}});
  long long ms = MsUntil([&] { return TakesMail(b, "user@after.test", 0s); }, 5s);
  std::cout << "[ measured ] after the outage, domain created on A takes mail on B after " << ms
            << " ms\n";
  EXPECT_GE(ms, 0) << "the write after the outage never reached node B";
  EXPECT_LT(ms, 2000);
}

// (f) kill -9 of a node loses nothing it acknowledged: messages answered 250 while the sink
// defers them are all delivered after the node restarts on its queue.
TEST_F(ClusterTest, KilledNodeLosesNothingAcknowledged) {
  GatewayProcess& a = Node("node-a");
  ASSERT_TRUE(a.Start());
  Provision(a, "durable.test");
  ASSERT_TRUE(TakesMail(a, "user@durable.test", 5s));
  sink_.set_rcpt_policy([](const std::string&) { return std::string("451 4.3.0 not now"); });
  constexpr int kMessages = 20;
  for (int i = 0; i < kMessages; ++i) {
    std::string rcpt = (i % 2 ? "user@durable.test" : "user@example.com");
    ASSERT_TRUE(Send(a, rcpt, "kill9-" + std::to_string(i) + "-end"));
  }
  a.Kill9();
  sink_.set_rcpt_policy(nullptr);
  ASSERT_TRUE(a.Start());
  for (int i = 0; i < kMessages; ++i)
    EXPECT_TRUE(sink_.WaitForMessageContaining("kill9-" + std::to_string(i) + "-end", 20s))
        << "message " << i << " was acknowledged and lost";
}

// (g) A node restarted while the database is down starts from its local snapshot: it takes mail
// for the domains it knew (created before it started, and one it followed while running), API
// writes answer 503; once the database answers it catches up with what changed meanwhile. A
// node that never ran cannot start without the database (nothing to serve from).
TEST_F(ClusterTest, NodeRestartedWhileDatabaseIsDownServesFromItsSnapshot) {
  control::pgtest::PrivateCluster pg;
  std::string why;
  ASSERT_TRUE(pg.Start(&why)) << why;
  GatewayProcess& a = Node("node-a", pg.url());
  GatewayProcess& b = Node("node-b", pg.url());
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  std::string customer = Provision(a, "known.test");
  ASSERT_TRUE(TakesMail(b, "user@known.test", 5s));
  Create(a, "/api/v1/domains",
         {{"name", "followed.test"}, {"customer", customer}, {"destinations", {Dest()}}});
  ASSERT_TRUE(TakesMail(b, "user@followed.test", 5s)) << "B never followed the change";

  auto st = b.Sigterm(10s);
  ASSERT_TRUE(st && st->exited && st->code == 0) << (st ? st->ToString() : "still running");
  ASSERT_TRUE(pg.Stop(&why)) << why;
  ASSERT_TRUE(b.Start()) << "node B did not start from its snapshot";
  EXPECT_TRUE(b.log().Find("event=control_snapshot_serving\\b"));
  EXPECT_TRUE(TakesMail(b, "user@known.test", 5s));
  EXPECT_TRUE(TakesMail(b, "user@followed.test", 5s))
      << "the followed change is not in the snapshot";
  ASSERT_TRUE(Send(b, "one@followed.test", "served-from-snapshot"));
  EXPECT_TRUE(sink_.WaitForMessageContaining("served-from-snapshot", 20s));
  EXPECT_EQ(Api(b, kOperator, "GET", "/api/v1/domains/known.test").status, 200u);
  admin::HttpResult w =
      Api(b, kOperator, "POST", "/api/v1/domains",
          json::serialize(json::object{
              {"name", "during.test"}, {"customer", customer}, {"destinations", {Dest()}}}));
  EXPECT_EQ(w.status, 503u) << Describe(w);
  EXPECT_EQ(StoreUpMetric(b), "0");

  GatewayProcess& c = Node("node-c", pg.url());
  EXPECT_FALSE(c.Start()) << "a node with no snapshot started without its database";
  EXPECT_TRUE(c.AllLogs().find("no local snapshot") != std::string::npos) << c.AllLogs();
  nodes_.erase("node-c");

  ASSERT_TRUE(pg.Start(&why)) << why;
  EXPECT_TRUE(PollUntil([&] { return b.log().Find("event=control_snapshot_connected\\b"); }, 10s));
  EXPECT_TRUE(PollUntil([&] { return StoreUpMetric(b) == "1"; }, 10s));
  EXPECT_TRUE(PollUntil([&] { return Health(a) == "ok"; }, 10s));
  Create(a, "/api/v1/domains",
         {{"name", "after.test"}, {"customer", customer}, {"destinations", {Dest()}}});
  EXPECT_TRUE(TakesMail(b, "user@after.test", 5s)) << "B did not catch up after reconnecting";
  Create(b, "/api/v1/domains",
         {{"name", "from-b.test"}, {"customer", customer}, {"destinations", {Dest()}}});
  EXPECT_TRUE(TakesMail(a, "user@from-b.test", 5s)) << "B's writes do not reach the database";
  EXPECT_TRUE(b.log().Find("event=alerts_loaded\\b")) << "alerts never started on B";
}

}  // namespace
}  // namespace sw::it
