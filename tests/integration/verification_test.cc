// Domain ownership verification (SPEC section 10, provisioning.require_verification) against a
// real DNS server: dnsmasq on a loopback port answers _spamweeder.<domain> TXT. A new domain
// stays pending (450 4.7.1) until POST .../verify finds its code; a wrong code is 422.
// Fails with the gateway's and dnsmasq's output.
#include <boost/json.hpp>
#include <string>

#include "admin/http_client.h"
#include "tests/integration/harness/dnsmasq.h"
#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/smtp_client.h"

namespace sw::it {
namespace {

namespace json = boost::json;

class VerificationTest : public GatewayTest {
 protected:
  admin::HttpResult Api(const std::string& method, const std::string& target,
                        const std::string& body = "") {
    admin::HttpClient http("127.0.0.1", gw_->admin_port(), GatewayProcess::kAdminToken, 10s);
    return http.Call(method, target, admin::HttpCallOptions{body, {}});
  }
  std::optional<Reply> Rcpt(const std::string& to) {
    SmtpClient c;
    if (!OpenSession(c, port())) return std::nullopt;
    if (!ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250")) return std::nullopt;
    return c.Command("RCPT TO:<" + to + ">");
  }
  Dnsmasq dns_;
};

TEST_F(VerificationTest, PendingUntilTheTxtRecordHoldsTheCode) {
  uint16_t dns_port = FreeLoopbackPort();
  ASSERT_NE(dns_port, 0);
  GatewayOptions o = DefaultOptions();
  o.extra_yaml = "provisioning:\n  require_verification: true\ndns:\n  servers: [\"127.0.0.1:" +
                 std::to_string(dns_port) + "\"]\n";
  ASSERT_TRUE(StartGateway(o));
  std::string dest = "[127.0.0.1]:" + std::to_string(sink_.port());
  auto created =
      Api("POST", "/api/v1/domains", R"({"name":"owned.test","destinations":[")" + dest + R"("]})");
  ASSERT_EQ(created.status, 201u) << created.body;
  json::object d = json::parse(created.body).as_object();
  EXPECT_EQ(d.at("state"), "pending");
  ASSERT_TRUE(d.contains("verification")) << created.body;
  EXPECT_EQ(d.at("verification").at("record"), "_spamweeder.owned.test");
  std::string value(d.at("verification").at("value").as_string());
  ASSERT_EQ(value.rfind("spamweeder-verification=", 0), 0u) << value;
  EXPECT_GE(value.size(), 24u + 32u) << "a code long enough not to be guessed";

  // Pending: mail is deferred, not refused for good.
  EXPECT_TRUE(ReplyIs(Rcpt("user@owned.test"), "450 4.7.1"));

  // A TXT record with another code: 422 naming the field, still pending.
  ASSERT_TRUE(dns_.Start(dir_.path(), dns_port,
                         {"--txt-record=_spamweeder.owned.test,spamweeder-verification="
                          "00000000000000000000000000000000"}));
  auto wrong = Api("POST", "/api/v1/domains/owned.test/verify");
  EXPECT_EQ(wrong.status, 422u) << wrong.body << "\n" << dns_.Log();
  EXPECT_NE(wrong.body.find("\"field\":\"verification\""), std::string::npos) << wrong.body;
  EXPECT_TRUE(ReplyIs(Rcpt("user@owned.test"), "450 4.7.1"));
  dns_.Stop();

  // The right code: active, mail accepted at once, audited.
  ASSERT_TRUE(dns_.Start(dir_.path(), dns_port, {"--txt-record=_spamweeder.owned.test," + value}));
  auto ok = Api("POST", "/api/v1/domains/owned.test/verify");
  ASSERT_EQ(ok.status, 200u) << ok.body << "\n" << dns_.Log();
  EXPECT_EQ(json::parse(ok.body).at("state"), "active");
  EXPECT_FALSE(json::parse(ok.body).as_object().contains("verification"));
  EXPECT_TRUE(ReplyIs(Rcpt("user@owned.test"), "250"));
  auto audit = Api("GET", "/api/v1/audit");
  EXPECT_NE(audit.body.find("\"action\":\"domain.verify\""), std::string::npos) << audit.body;

  // It stays active across a restart.
  ASSERT_TRUE(gw_->Sigterm(20s));
  ASSERT_TRUE(gw_->Start());
  EXPECT_TRUE(ReplyIs(Rcpt("user@owned.test"), "250"));
}

TEST_F(VerificationTest, WithoutVerificationNewDomainsAreActive) {
  ASSERT_TRUE(StartGateway());
  std::string dest = "[127.0.0.1]:" + std::to_string(sink_.port());
  auto created =
      Api("POST", "/api/v1/domains", R"({"name":"open.test","destinations":[")" + dest + R"("]})");
  ASSERT_EQ(created.status, 201u) << created.body;
  EXPECT_EQ(json::parse(created.body).at("state"), "active");
  EXPECT_TRUE(ReplyIs(Rcpt("user@open.test"), "250"));
}

}  // namespace
}  // namespace sw::it
