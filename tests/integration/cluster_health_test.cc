// Owns shared domain health across cluster nodes end to end (SPEC section 13, issue 12 item 3):
// two gateways on the fixture's PostgreSQL receive mail for a domain whose server is down; one
// `down` alert per contact for the cluster; the server comes back, node A delivers, node B
// drains its queue at once (not at its own 10-minute probe); one `up` alert.
// Fails with both gateways' logs dumped; without the fixture the test fails saying why.
#include <boost/json.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <string>
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

const std::string kOperator = GatewayProcess::kAdminToken;
const std::string kDomain = "shared-health.test";

std::string Dest(uint16_t port) { return "[127.0.0.1]:" + std::to_string(port); }

class ClusterHealthTest : public ClusterFixture {
 protected:
  ClusterHealthTest() : ClusterFixture("swhealth") {}

  // A gateway named `node` on the test's database; alert emails go to the sink. Short grace and
  // health poll; the queue's own retry and probe intervals as given.
  GatewayProcess& Node(const std::string& node, const std::string& probe_interval,
                       const std::string& retry_interval) {
    dirs_.push_back(std::make_unique<TempDir>());
    GatewayOptions o;
    o.hostname = "mx." + node + ".test";
    o.domains.push_back({"example.com", {Dest(sink_.port())}, {}, "opportunistic"});
    o.outbound_relay = Dest(sink_.port());
    o.probe_interval = probe_interval;
    o.retry_interval = retry_interval;
    o.extra_yaml = "cluster:\n  store: \"" + url_ + "\"\n  node: " + node +
                   "\n  health_poll: 200ms\n"
                   "alerts:\n  grace: 2s\n  repeat: 1h\n  retry_min: 500ms\n  retry_max: 1s\n"
                   "  up_wait: 10s\n";
    auto& slot = nodes_[node];
    slot = std::make_unique<GatewayProcess>(dirs_.back()->path(), o);
    return *slot;
  }
  admin::HttpResult Api(GatewayProcess& gw, const std::string& method, const std::string& target,
                        const std::string& body = "") {
    admin::HttpClient http("127.0.0.1", gw.admin_port(), kOperator, 10s);
    return http.Call(method, target, admin::HttpCallOptions{body, {}});
  }
  std::string Create(GatewayProcess& gw, const std::string& target, const json::object& body) {
    admin::HttpResult r = Api(gw, "POST", target, json::serialize(body));
    EXPECT_EQ(r.status, 201u) << "POST " << target << ": " << r.body;
    return Str(ParseObject(r.body), "id");
  }
  // Reseller > customer with one contact alerted by email > kDomain at `dest`, through `gw`.
  void Provision(GatewayProcess& gw, const std::string& dest) {
    json::object branding{{"product_name", "AcmeGuard"}, {"alert_from", "noc@acme.test"}};
    std::string r = Create(gw, "/api/v1/resellers", {{"name", "Acme"}, {"branding", branding}});
    json::object contact{{"name", "Ops"}, {"email", "ops@customer-mail.test"}};
    std::string c = Create(gw, "/api/v1/customers",
                           {{"name", "Shop"}, {"reseller", r}, {"contacts", json::array{contact}}});
    Create(gw, "/api/v1/domains",
           {{"name", kDomain}, {"customer", c}, {"destinations", json::array{dest}}});
  }
  bool TakesMail(GatewayProcess& gw) {
    return PollUntil(
        [&] {
          SmtpClient c;
          if (!OpenSession(c, gw.port())) return false;
          auto mail = c.Command("MAIL FROM:<sender@client.test>", 5s);
          auto r = c.Command("RCPT TO:<user@" + kDomain + ">", 5s);
          c.Command("QUIT", 2s);
          return mail && mail->code == 250 && r && r->code == 250;
        },
        10s);
  }
  std::string Send(GatewayProcess& gw, const std::string& marker) {
    Envelope env;
    env.from = "sender@client.test";
    env.to = {"user@" + kDomain};
    SendResult sent = SendMessage(gw.port(), env, SimpleMessage(marker));
    EXPECT_TRUE(sent.accepted) << marker << ": " << sent.error;
    return sent.queue_id;
  }
  // The domain's alert events in the shared store, as `gw`'s API lists them.
  json::array Alerts(GatewayProcess& gw) {
    json::object o = ParseObject(Api(gw, "GET", "/api/v1/alerts?domain=" + kDomain).body);
    const json::value* a = o.if_contains("alerts");
    return a && a->is_array() ? a->as_array() : json::array{};
  }
  // Events of `kind` whose every delivery is sent.
  size_t SentEvents(GatewayProcess& gw, const std::string& kind) {
    size_t n = 0;
    for (const auto& a : Alerts(gw)) {
      const auto& o = a.as_object();
      if (Str(o, "event") != kind) continue;
      bool sent = !o.at("deliveries").as_array().empty();
      for (const auto& d : o.at("deliveries").as_array())
        sent = sent && Str(d.as_object(), "state") == "sent";
      n += sent ? 1 : 0;
    }
    return n;
  }
  size_t EmailsFor(const std::string& event) const {
    return sink_.MessagesContaining("X-SpamWeeder-Event: " + event).size();
  }
  size_t CountInBoth(const std::string& regex) const {
    size_t n = 0;
    for (const auto& [name, gw] : nodes_) n += gw->CountInAllLogs(regex);
    return n;
  }
};

TEST_F(ClusterHealthTest, OneAlertPerEventAcrossNodesAndRecoveryDrainsEveryNode) {
  ClosedPort closed;
  ASSERT_NE(closed.port(), 0);
  // A probes often; B would retry and probe only after 10 minutes on its own.
  GatewayProcess& a = Node("node-a", "300ms", "10m");
  GatewayProcess& b = Node("node-b", "10m", "10m");
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  Provision(a, Dest(closed.port()));
  ASSERT_TRUE(TakesMail(a));
  ASSERT_TRUE(TakesMail(b)) << "the domain provisioned on A never went live on B";

  Send(a, "queued-on-a");
  std::string id_b = Send(b, "queued-on-b");
  const std::string down_re = "event=domain_down\\b.*domain=shared-health\\.test";
  ASSERT_TRUE(a.log().WaitFor(down_re, 10s));
  ASSERT_TRUE(b.log().WaitFor(down_re, 10s));

  // Both nodes' grace expires (2 s): one opens the cluster's outage, the other joins it.
  const std::string decided_re = "event=outage_(opened|joined)\\b.*domain=shared-health\\.test";
  ASSERT_TRUE(a.log().WaitFor(decided_re, 15s)) << "node A never reached the end of its grace";
  ASSERT_TRUE(b.log().WaitFor(decided_re, 15s)) << "node B never reached the end of its grace";
  EXPECT_EQ(CountInBoth("event=outage_opened\\b"), 1u);
  EXPECT_EQ(CountInBoth("event=outage_joined\\b"), 1u);
  ASSERT_TRUE(PollUntil([&] { return SentEvents(b, "down") == 1; }, 15s))
      << Api(b, "GET", "/api/v1/alerts?domain=" + kDomain).body;
  EXPECT_EQ(Alerts(a).size(), 1u) << "one event row for the cluster";
  // "sent" means queued on the winner's relay queue: the email reaches the sink a moment later.
  ASSERT_TRUE(PollUntil([&] { return EmailsFor("down") >= 1; }, 15s));
  EXPECT_EQ(EmailsFor("down"), 1u);
  EXPECT_EQ(sink_.MessagesContaining("X-SpamWeeder-Event: down")[0].rcpt_to,
            std::vector<std::string>{"ops@customer-mail.test"});

  // The server comes back: A's probe finds it and delivers; B drains at once.
  TestSmtpServer server;
  ASSERT_TRUE(server.Start(closed.port()));
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(server.WaitForMessageContaining("queued-on-a", 10s));
  ASSERT_TRUE(server.WaitForMessageContaining("queued-on-b", 10s))
      << "node B did not drain its queue when A saw the domain recover";
  auto drained_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_LT(drained_s, 10) << "B's own probe and retry are 10 minutes away";
  EXPECT_TRUE(
      b.log().Find("event=outage_closed_elsewhere\\b.*domain=shared-health\\.test.*"
                   "probe=now"));
  EXPECT_TRUE(b.log().WaitFor(DeliveredRe(id_b), 5s));

  // One `up` for the cluster, made by the node that delivered first.
  ASSERT_TRUE(PollUntil([&] { return SentEvents(a, "up") == 1; }, 20s))
      << Api(a, "GET", "/api/v1/alerts?domain=" + kDomain).body;
  EXPECT_EQ(CountInBoth("event=outage_closed\\b"), 1u);
  json::array events = Alerts(b);
  ASSERT_EQ(events.size(), 2u) << json::serialize(events);
  for (const auto& e : events) {
    if (Str(e.as_object(), "event") == "up") {
      EXPECT_EQ(Str(e.as_object(), "node"), "node-a");
    }
  }
  ASSERT_TRUE(PollUntil([&] { return EmailsFor("up") >= 1; }, 15s));
  EXPECT_EQ(EmailsFor("up"), 1u);
  EXPECT_EQ(EmailsFor("down"), 1u);
}

}  // namespace
}  // namespace sw::it
