// Owns `spamweeder cluster status` end to end (SPEC section 13, issue 12 item 5): two gateways
// on the PostgreSQL database of the ctest fixture `postgres` write heartbeats; the command shows
// both with their queues, a node killed with -9 turns stale, one stopped cleanly "stopped".
// Fails with the gateways' logs dumped; without the fixture every test fails saying why.
#include <boost/json.hpp>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "admin/http_client.h"
#include "control/postgres_schema.h"
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

// Short enough that staleness (3 intervals) shows within seconds.
constexpr const char* kInterval = "500ms";
constexpr int64_t kIntervalMs = 500;

struct CommandResult {
  std::optional<ExitStatus> status;
  std::string output;  // stdout and stderr
  int code() const { return status && status->exited ? status->code : -1; }
};

class ClusterStatusTest : public ClusterFixture {
 protected:
  ClusterStatusTest() : ClusterFixture("swst") {}

  // A gateway named `node` on the test's database; `store` "" for the embedded store.
  GatewayProcess& Node(const std::string& node, std::optional<std::string> store = std::nullopt) {
    auto& slot = nodes_[node];
    if (slot) return *slot;
    dirs_.push_back(std::make_unique<TempDir>());
    GatewayOptions o;
    o.hostname = "mx." + node + ".test";
    o.domains.push_back({"example.com", {Dest()}, {}, "opportunistic"});
    // Nothing listens on port 1: deliveries fail at once and the domain goes down.
    o.domains.push_back({"down.test", {"[127.0.0.1]:1"}, {}, "opportunistic"});
    std::string url = store.value_or(url_);
    if (!url.empty())
      o.extra_yaml = "cluster:\n  store: \"" + url + "\"\n  node: " + node +
                     "\n  heartbeat_interval: " + kInterval + "\n";
    slot = std::make_unique<GatewayProcess>(dirs_.back()->path(), o);
    return *slot;
  }
  std::string Dest() const { return "[127.0.0.1]:" + std::to_string(sink_.port()); }

  // `spamweeder cluster status -c CONFIG [extra...]`.
  CommandResult RunStatus(const std::string& config, std::vector<std::string> extra = {"--json"}) {
    std::string out = config + ".status.out", error;
    fs::remove(out);
    std::vector<std::string> argv{SW_BINARY, "cluster", "status", "-c", config};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto st = Process::Run(argv, out, 30s, &error);
    return {st, ReadFile(out) + error};
  }
  // Node name -> its entry in `cluster status --json` through `gw`'s config (empty on failure).
  std::map<std::string, json::object> Nodes(GatewayProcess& gw) {
    CommandResult r = RunStatus(gw.config_path());
    last_output_ = r.output;
    std::map<std::string, json::object> nodes;
    if (r.code() != 0) return nodes;
    boost::system::error_code ec;
    json::value v = json::parse(r.output, ec);
    const json::value* list = v.is_object() ? v.as_object().if_contains("nodes") : nullptr;
    if (ec || !list || !list->is_array()) return nodes;
    for (const auto& n : list->as_array())
      if (n.is_object() && n.as_object().contains("node"))
        nodes[std::string(n.as_object().at("node").as_string())] = n.as_object();
    return nodes;
  }
  admin::HttpResult Api(GatewayProcess& gw, const std::string& token, const std::string& method,
                        const std::string& target, const std::string& body = "") {
    admin::HttpClient http("127.0.0.1", gw.admin_port(), token, 10s);
    return http.Call(method, target, admin::HttpCallOptions{body, {}});
  }
  // A new object's "id" (or for a token its "token") from a POST that must answer 201.
  std::string Create(GatewayProcess& gw, const std::string& target, const json::object& body,
                     const char* field = "id") {
    admin::HttpResult r =
        Api(gw, GatewayProcess::kAdminToken, "POST", target, json::serialize(body));
    EXPECT_EQ(r.status, 201u) << target << ": " << r.body;
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    const json::value* f = !ec && v.is_object() ? v.as_object().if_contains(field) : nullptr;
    return f && f->is_string() ? std::string(f->as_string()) : "";
  }
  bool Send(GatewayProcess& gw, const std::string& rcpt, const std::string& marker) {
    Envelope env;
    env.from = "sender@client.test";
    env.to = {rcpt};
    SendResult sent = SendMessage(gw.port(), env, SimpleMessage(marker));
    EXPECT_TRUE(sent.accepted) << marker << ": " << sent.error;
    return sent.accepted;
  }

  std::string last_output_;
};

// "" / -1 when `n` (an entry of `cluster status --json`) lacks them.
std::string State(const json::object& n) {
  const json::value* v = n.if_contains("state");
  return v && v->is_string() ? std::string(v->as_string()) : "";
}
int64_t Queue(const json::object& n, const char* key) {
  const json::value* q = n.if_contains("queue");
  const json::value* v = q && q->is_object() ? q->as_object().if_contains(key) : nullptr;
  return v && v->is_int64() ? v->as_int64() : -1;
}

// Both nodes show with fresh heartbeats and their own queues; -9 turns one stale, SIGTERM
// marks the other stopped; heartbeats never raise the change version.
TEST_F(ClusterStatusTest, ShowsEveryNodeWithItsQueueAndTurnsStale) {
  GatewayProcess& a = Node("node-a");
  GatewayProcess& b = Node("node-b");
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  Status st;
  auto store = control::PostgresControlStore::Connect(url_, &st);
  ASSERT_TRUE(store) << st.message();
  uint64_t version_before = 0;
  ASSERT_TRUE(store->ChangeVersion(&version_before).ok());

  constexpr int kMessages = 3;
  for (int i = 0; i < kMessages; ++i)
    ASSERT_TRUE(Send(a, "user@down.test", "held-" + std::to_string(i)));
  std::map<std::string, json::object> nodes;
  bool seen = PollUntil(
      [&] {
        nodes = Nodes(b);  // any node's config reads the same database
        return nodes.size() == 2 && State(nodes["node-a"]) == "up" &&
               State(nodes["node-b"]) == "up" && Queue(nodes["node-a"], "messages") == kMessages &&
               Queue(nodes["node-a"], "domains_down") == 1;
      },
      15s);
  ASSERT_TRUE(seen) << "cluster status never showed both nodes up with node-a's queue:\n"
                    << last_output_;
  const json::object& na = nodes["node-a"];
  const json::object& nb = nodes["node-b"];
  EXPECT_GT(Queue(na, "bytes"), 0);
  EXPECT_GE(Queue(na, "oldest_age_ms"), 0);
  EXPECT_EQ(Queue(nb, "messages"), 0);
  EXPECT_EQ(Queue(nb, "bytes"), 0);
  EXPECT_TRUE(nb.at("queue").as_object().at("oldest_age_ms").is_null());
  EXPECT_EQ(na.at("interval_ms").to_number<int64_t>(), kIntervalMs);
  EXPECT_LT(na.at("heartbeat_age_ms").to_number<int64_t>(), 3 * kIntervalMs + 5000);
  EXPECT_EQ(std::string(na.at("hostname").as_string()), "mx.node-a.test");

  CommandResult text = RunStatus(a.config_path(), {});
  EXPECT_EQ(text.code(), 0) << text.output;
  std::cout << "[ status   ]\n" << text.output;
  EXPECT_NE(text.output.find("node-a"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("node-b"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("LAST HEARTBEAT"), std::string::npos) << text.output;

  uint64_t version_after = 0;
  ASSERT_TRUE(store->ChangeVersion(&version_after).ok());
  EXPECT_EQ(version_after, version_before) << "heartbeats raised the change version";

  b.Kill9();
  EXPECT_TRUE(PollUntil([&] { return State(Nodes(a)["node-b"]) == "stale"; }, 10s))
      << "node-b never turned stale after kill -9:\n"
      << last_output_;
  EXPECT_TRUE(PollUntil([&] { return State(Nodes(a)["node-a"]) == "up"; }, 10s)) << last_output_;

  auto exit = a.Sigterm(10s);
  ASSERT_TRUE(exit && exit->exited && exit->code == 0) << (exit ? exit->ToString() : "running");
  nodes = Nodes(a);
  EXPECT_EQ(State(nodes["node-a"]), "stopped") << last_output_;
  EXPECT_EQ(Queue(nodes["node-a"], "messages"), kMessages) << "its queue stays on its disk";
}

// GET /api/v1/cluster/nodes: the operator sees every node (served from the heartbeat's cached
// read, no database query on the event loop); a reseller's or customer's token gets 404.
TEST_F(ClusterStatusTest, AdminApiListsNodesForTheOperatorOnly) {
  GatewayProcess& a = Node("node-a");
  GatewayProcess& b = Node("node-b");
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  std::string body;
  bool both = PollUntil(
      [&] {
        admin::HttpResult r = Api(a, GatewayProcess::kAdminToken, "GET", "/api/v1/cluster/nodes");
        body = r.body;
        return r.status == 200u && body.find("\"node\":\"node-a\"") != std::string::npos &&
               body.find("\"node\":\"node-b\"") != std::string::npos &&
               body.find("\"state\":\"stale\"") == std::string::npos;
      },
      15s);
  EXPECT_TRUE(both) << body;
  EXPECT_NE(body.find("\"cluster\":true"), std::string::npos) << body;

  std::string reseller = Create(a, "/api/v1/resellers", {{"name", "R"}});
  std::string customer = Create(a, "/api/v1/customers", {{"name", "C"}, {"reseller", reseller}});
  ASSERT_FALSE(reseller.empty() || customer.empty());
  for (const std::string& account : {reseller, customer}) {
    std::string token = Create(a, "/api/v1/tokens",
                               {{"account", account}, {"role", "admin"}, {"name", "t"}}, "token");
    ASSERT_FALSE(token.empty());
    admin::HttpResult r = Api(a, token, "GET", "/api/v1/cluster/nodes");
    EXPECT_EQ(r.status, 404u) << account << ": " << r.body;
    EXPECT_EQ(r.body.find("node-b"), std::string::npos) << r.body;
  }
}

// The database going away does not touch mail: the failing heartbeat is logged once for the
// whole outage, `cluster status` says the database is unreachable (exit 1), and heartbeats
// resume when it is back (a private cluster: this test stops its server).
TEST_F(ClusterStatusTest, HeartbeatFailsSoftWhileTheDatabaseIsDown) {
  control::pgtest::PrivateCluster pg;
  std::string why;
  ASSERT_TRUE(pg.Start(&why)) << why;
  GatewayProcess& a = Node("node-a", pg.url());
  ASSERT_TRUE(a.Start());
  auto up = [&] { return State(Nodes(a)["node-a"]) == "up"; };
  ASSERT_TRUE(PollUntil(up, 10s)) << last_output_;

  ASSERT_TRUE(pg.Stop(&why)) << why;
  EXPECT_TRUE(a.log().WaitFor("event=node_heartbeat_failed\\b.*\\bnode=node-a\\b", 10s))
      << "the failing heartbeat was not logged";
  EXPECT_TRUE(Send(a, "user@example.com", "during-outage"));
  EXPECT_TRUE(sink_.WaitForMessageContaining("during-outage", 20s));
  CommandResult r = RunStatus(a.config_path());
  EXPECT_EQ(r.code(), 1) << r.output;

  ASSERT_TRUE(pg.Start(&why)) << why;
  EXPECT_TRUE(a.log().WaitFor("event=node_heartbeat_restored\\b.*\\bnode=node-a\\b", 15s))
      << "heartbeats did not resume";
  EXPECT_EQ(a.log().Count("event=node_heartbeat_failed\\b"), 1u) << "logged more than once";
  EXPECT_TRUE(PollUntil(up, 10s)) << last_output_;
}

// Exit statuses like `spamweeder migrate`: 2 without cluster.store or on bad usage, 1 when the
// database does not answer.
TEST_F(ClusterStatusTest, ExitStatusesForEmbeddedUnreachableAndUsage) {
  GatewayProcess& solo = Node("solo", "");
  ASSERT_TRUE(WriteFile(solo.config_path(), GatewayConfigYaml(solo.options(), solo.queue_path())));
  CommandResult r = RunStatus(solo.config_path());
  EXPECT_EQ(r.code(), 2) << r.output;
  EXPECT_NE(r.output.find("cluster.store is not set"), std::string::npos) << r.output;

  ASSERT_TRUE(solo.Start());
  admin::HttpResult api = Api(solo, GatewayProcess::kAdminToken, "GET", "/api/v1/cluster/nodes");
  EXPECT_EQ(api.status, 200u) << api.body;
  EXPECT_EQ(api.body, "{\"cluster\":false,\"nodes\":[]}\n");

  GatewayProcess& gone = Node("gone", "postgresql://postgres@127.0.0.1:1/none");
  ASSERT_TRUE(WriteFile(gone.config_path(), GatewayConfigYaml(gone.options(), gone.queue_path())));
  r = RunStatus(gone.config_path());
  EXPECT_EQ(r.code(), 1) << r.output;

  r = RunStatus(gone.config_path(), {"--bogus"});
  EXPECT_EQ(r.code(), 2) << r.output;
  EXPECT_NE(r.output.find("usage: spamweeder cluster status"), std::string::npos) << r.output;

  // A fresh database with no node yet: exit 0, nothing listed.
  GatewayProcess& empty = Node("empty");
  ASSERT_TRUE(
      WriteFile(empty.config_path(), GatewayConfigYaml(empty.options(), empty.queue_path())));
  ASSERT_TRUE(control::MigratePostgres(url_, nullptr).ok());
  r = RunStatus(empty.config_path());
  EXPECT_EQ(r.code(), 0) << r.output;
  EXPECT_NE(r.output.find("\"nodes\":[]"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sw::it
