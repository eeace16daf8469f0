// The white-label portal (SPEC section 12) in a real browser: two resellers with their own brand
// and portal host, provisioned through the API, then tests/browser/portal.test.js drives Debian's
// headless Chromium (playwright-core, one browser for every scenario) against the real gateway.
// Fails with the script's first broken expectation and the gateway's log.
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>
#include <thread>

#include "admin/http_client.h"
#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/scanners.h"
#include "tests/integration/harness/smtp_client.h"

namespace sw::it {
namespace {

namespace json = boost::json;

const std::string kOperator = GatewayProcess::kAdminToken;

struct Tenant {
  const char* name;  // "acme": screenshot prefix
  const char* product;
  const char* color;
  const char* host;
  const char* domain;
  const char* queued_domain;
  std::string token;
};

class PortalTest : public GatewayTest {
 protected:
  json::object Call(const std::string& method, const std::string& target, const json::object& b) {
    admin::HttpClient http("127.0.0.1", gw_->admin_port(), kOperator, 10s);
    auto r = http.Call(method, target, admin::HttpCallOptions{json::serialize(b), {}});
    EXPECT_TRUE(r.ok && r.status == 201)
        << method << " " << target << ": " << r.status << " " << r.body << r.error;
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    return !ec && v.is_object() ? v.as_object() : json::object{};
  }
  std::string Id(const json::object& o) {
    const json::value* v = o.if_contains("id");
    return v && v->is_string() ? std::string(v->as_string()) : "";
  }

  // A reseller with its brand, one customer, a delivering domain, a domain whose server is down
  // (holding one queued message) and an admin token.
  void Provision(Tenant& t, uint16_t down_port) {
    json::object branding{{"product_name", t.product},
                          {"primary_color", t.color},
                          {"portal_host", t.host},
                          {"support_email", std::string("help@") + t.host}};
    std::string r = Id(Call("POST", "/api/v1/resellers",
                            {{"name", std::string(t.name) + " MSP"}, {"branding", branding}}));
    std::string c = Id(Call("POST", "/api/v1/customers", {{"name", "Shop"}, {"reseller", r}}));
    json::array up{"[127.0.0.1]:" + std::to_string(sink_.port())};
    json::array down{"[127.0.0.1]:" + std::to_string(down_port)};
    Call("POST", "/api/v1/domains", {{"name", t.domain}, {"customer", c}, {"destinations", up}});
    Call("POST", "/api/v1/domains",
         {{"name", t.queued_domain}, {"customer", c}, {"destinations", down}});
    json::object tok = Call("POST", "/api/v1/tokens", {{"account", r}, {"role", "admin"}});
    const json::value* v = tok.if_contains("token");
    t.token = v && v->is_string() ? std::string(v->as_string()) : "";
    ASSERT_FALSE(t.token.empty());
  }

  void ExpectCreatedDomainTakesMail(const std::string& report);

  static json::object TenantJson(const Tenant& t) {
    return {{"name", t.name},  {"product", t.product}, {"color", t.color},
            {"host", t.host},  {"domain", t.domain},   {"queued_domain", t.queued_domain},
            {"token", t.token}};
  }
};

TEST_F(PortalTest, BrandsIsolationQueueSettingsCsrfAndAccessibilityInChromium) {
  std::string script = std::string(SW_SOURCE_DIR) + "/tests/browser/portal.test.js";
  ASSERT_TRUE(std::filesystem::exists(std::string(SW_SOURCE_DIR) +
                                      "/tests/browser/node_modules/playwright-core/package.json"))
      << "tests/browser/node_modules is missing: run scripts/setup.sh";
  std::string node = FindProgram("node");
  ASSERT_FALSE(node.empty()) << "node is not installed: run scripts/setup.sh";
  ASSERT_FALSE(FindProgram("chromium").empty()) << "chromium is not installed: scripts/setup.sh";

  ClosedPort down;
  ASSERT_NE(down.port(), 0);
  // Real rspamd and ClamAV for the domain the script switches Premium on.
  ScannerEnvironment scanners;
  scanners.SetUp();
  ASSERT_TRUE(scanners.ready()) << "scanners did not start";
  GatewayOptions o;
  o.retry_interval = "1h";  // the queued message stays put while the browser looks at it
  o.received_product = "";  // white label: no product name in our Received header
  o.filters_yaml = "filters:\n  rspamd: {url: \"" + scanners.rspamd().url() +
                   "\", timeout: 10s, on_failure: tempfail}\n  clamav: {database: \"" +
                   scanners.db() + "\", on_failure: tempfail, temp_dir: \"" + dir_.path() +
                   "\", threads: 1}\n";
  ASSERT_TRUE(StartGateway(o));
  ASSERT_NE(gw_->admin_port(), 0);
  Tenant a{"acme",           "Acme Mail Shield", "#0b5394", "portal.acme.test",
           "shop.acme.test", "queued.acme.test", ""};
  Tenant b{"blue",           "Blue Filter",      "#6a1b9a", "mail.blue.test",
           "cafe.blue.test", "queued.blue.test", ""};
  Provision(a, down.port());
  Provision(b, down.port());
  // API changes reach the SMTP side within the publish interval.
  SendResult sent;
  for (auto until = std::chrono::steady_clock::now() + 10s;
       !sent.accepted && std::chrono::steady_clock::now() < until;) {
    sent = SendMessage(port(), {"sender@client.test", {"user@queued.acme.test"}, ""},
                       SimpleMessage("portal-queued"));
    if (!sent.accepted) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(sent.accepted) << sent.error;

  std::string artifacts = std::string(SW_ARTIFACTS_DIR) + "/portal";
  json::object ta = TenantJson(a);
  ta["new_domain"] = "new.acme.test";  // created through the portal's form
  ta["destination"] = "[127.0.0.1]:" + std::to_string(sink_.port());
  json::object input{{"port", gw_->admin_port()},   {"smtp_port", port()},
                     {"mx_host", o.hostname},       {"artifacts", artifacts},
                     {"operator_token", kOperator}, {"a", ta},
                     {"b", TenantJson(b)}};
  ASSERT_EQ(setenv("SW_PORTAL", json::serialize(input).c_str(), 1), 0);
  std::string out = dir_.File("browser.out");
  std::string error;
  auto st = Process::Run({node, script}, out, 170s, &error);
  ASSERT_TRUE(st) << error;
  std::string report = ReadFile(out);
  EXPECT_TRUE(st->exited && st->code == 0) << st->ToString() << "\n" << report;
  EXPECT_NE(report.find("\"ok\":true"), std::string::npos) << report;
  for (const char* png :
       {"acme-signin-desktop", "acme-domains-desktop", "acme-domains-activity-desktop",
        "acme-domain-desktop", "acme-domains-360", "acme-domain-360", "acme-customers-desktop",
        "acme-customers-360", "acme-tokens-desktop", "acme-tokens-360", "acme-customer-desktop",
        "operator-resellers-desktop", "blue-signin-desktop", "blue-domains-desktop"})
    EXPECT_TRUE(std::filesystem::exists(artifacts + "/" + png + ".png")) << png;
  ExpectCreatedDomainTakesMail(report);
}

// The domain the script created through the form exists in the API and takes mail.
void PortalTest::ExpectCreatedDomainTakesMail(const std::string& report) {
  size_t at = report.find("{\"ok\"");
  ASSERT_NE(at, std::string::npos) << report;
  std::string line = report.substr(at, report.find('\n', at) - at);
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  const json::value* name =
      !ec && v.is_object() ? v.as_object().if_contains("created_domain") : nullptr;
  ASSERT_TRUE(name && name->is_string()) << "the script reported no created_domain: " << report;
  std::string domain(name->as_string());
  admin::HttpClient http("127.0.0.1", gw_->admin_port(), kOperator, 10s);
  auto r = http.Call("GET", "/api/v1/domains/" + domain, {});
  ASSERT_TRUE(r.ok && r.status == 200) << r.status << " " << r.body << r.error;
  EXPECT_NE(r.body.find("\"customer\":\"c_"), std::string::npos) << r.body;
  SendResult sent;
  for (auto until = std::chrono::steady_clock::now() + 10s;
       !sent.accepted && std::chrono::steady_clock::now() < until;) {
    sent = SendMessage(port(), {"sender@client.test", {"user@" + domain}, ""},
                       SimpleMessage("portal-created"));
    if (!sent.accepted) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(sent.accepted) << "mail to " << domain << ": " << sent.error;
}

}  // namespace
}  // namespace sw::it
