// Owns outage alerts end to end (SPEC section 11): a customer's server goes down, one branded
// email (through the outbound relay), one Twilio-style SMS (after the SMS endpoint failed
// three times) and one signed webhook per contact; nothing more while it stays down, nothing
// twice across kill -9; one `up` with the delivered count; history and usage agree.
// Fails with the gateway's log dumped by the fixture.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "admin/http_client.h"
#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/test_http_server.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {
namespace {

namespace json = boost::json;

const std::string kOperator = GatewayProcess::kAdminToken;

std::string Dest(uint16_t port) { return "[127.0.0.1]:" + std::to_string(port); }

json::object ParseObject(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return !ec && v.is_object() ? v.as_object() : json::object{};
}

std::string Str(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

int64_t Int(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v) return -1;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return -1;
}

std::string Base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// The decoded base64 bodies of a multipart message's parts, concatenated.
std::string DecodedParts(const std::string& message) {
  std::string out;
  size_t pos = 0;
  while ((pos = message.find("Content-Transfer-Encoding: base64\r\n\r\n", pos)) !=
         std::string::npos) {
    pos += 37;
    size_t end = message.find("\r\n--", pos);
    std::string b64;
    for (size_t i = pos; i < end; ++i)
      if (message[i] != '\r' && message[i] != '\n') b64 += message[i];
    std::string raw(b64.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                            reinterpret_cast<const unsigned char*>(b64.data()),
                            static_cast<int>(b64.size()));
    if (n > 0) out += raw.substr(0, static_cast<size_t>(n));
    pos = end;
  }
  return out;
}

std::string HmacHex(const std::string& key, const std::string& body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), md, &n);
  std::string hex;
  char buf[3];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    hex += buf;
  }
  return hex;
}

class AlertsTest : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    ASSERT_TRUE(sms_.Start());
    ASSERT_TRUE(hook_.Start());
    ASSERT_TRUE(WriteFile(dir_.File("sms-token"), "tok-123\n"));
  }
  void TearDown() override {
    GatewayTest::TearDown();
    sms_.Stop();
    hook_.Stop();
  }
  GatewayOptions Options(const std::string& grace = "2s") {
    GatewayOptions o = DefaultOptions();
    o.outbound_relay = Dest(sink_.port());  // alert emails (and DSNs) land in the sink
    o.extra_yaml = "alerts:\n  grace: " + grace +
                   "\n  repeat: 1h\n  retry_min: 500ms\n  retry_max: 1s\n  up_wait: 10s\n"
                   "  sms: {kind: twilio, url: \"" +
                   sms_.url() + "/2010-04-01/Accounts/AC1/Messages.json\", account: AC1, " +
                   "token_file: \"" + dir_.File("sms-token") +
                   "\", from: \"+15550001111\"}\nusage:\n  flush_interval: 1s\n";
    return o;
  }
  admin::HttpResult Api(const std::string& method, const std::string& target,
                        const std::string& body = "") {
    admin::HttpClient http("127.0.0.1", gw_->admin_port(), kOperator, 10s);
    return http.Call(method, target, admin::HttpCallOptions{body, {}});
  }
  json::object Created(const std::string& target, const json::object& body) {
    admin::HttpResult r = Api("POST", target, json::serialize(body));
    EXPECT_EQ(r.status, 201u) << target << ": " << r.body;
    return ParseObject(r.body);
  }
  // Reseller "AcmeGuard" > customer with one contact on every channel > `domain` at `dest`.
  void Provision(const std::string& domain, const std::string& dest) {
    json::object branding{{"product_name", "AcmeGuard"},
                          {"alert_from", "noc@acme.test"},
                          {"alert_from_name", "Acme NOC"},
                          {"support_email", "help@acme.test"},
                          {"logo_url", "https://acme.test/logo.png"}};
    reseller_ = Str(Created("/api/v1/resellers", {{"name", "Acme"}, {"branding", branding}}), "id");
    json::object contact{{"name", "Ops"},
                         {"email", "ops@customer-mail.test"},
                         {"phone", "+15550002222"},
                         {"webhook", hook_.url() + "/psa"},
                         {"webhook_secret", "s3cret"}};
    customer_ = Str(
        Created("/api/v1/customers",
                {{"name", "Shop"}, {"reseller", reseller_}, {"contacts", json::array{contact}}}),
        "id");
    Created("/api/v1/domains",
            {{"name", domain}, {"customer", customer_}, {"destinations", json::array{dest}}});
  }
  size_t EmailsFor(const std::string& event) const {
    return sink_.MessagesContaining("X-SpamWeeder-Event: " + event).size();
  }
  size_t HooksFor(const std::string& event) const {
    size_t n = 0;
    for (const auto& r : hook_.requests())
      if (Str(ParseObject(r.body), "event") == event) ++n;
    return n;
  }
  size_t SmsDelivered(const std::string& word) const {
    size_t n = 0;
    auto reqs = sms_.requests();
    for (size_t i = 0; i < reqs.size(); ++i)
      if (reqs[i].body.find(word) != std::string::npos) ++n;
    return n;
  }

  TestHttpServer sms_, hook_;
  std::string reseller_, customer_;
};

TEST_F(AlertsTest, OutageAlertsOnceOnEveryChannelAndRecoveryOnce) {
  ClosedPort closed;
  sms_.RespondWith({500, 500, 500, 200});  // the SMS provider fails three times first
  ASSERT_TRUE(StartGateway(Options()));
  Provision("outage.test", Dest(closed.port()));
  std::string id = SendOk({"sender@client.test", {"user@outage.test"}, ""},
                          SimpleMessage("queued-during-outage"));
  ASSERT_TRUE(gw_->log().WaitFor("event=domain_down\\b.*domain=outage\\.test", 10s));

  // Email: branded, both parts, through the outbound relay.
  auto mail = sink_.WaitForMessageContaining("X-SpamWeeder-Event: down", 15s);
  ASSERT_TRUE(mail) << "no down email";
  EXPECT_EQ(mail->rcpt_to, std::vector<std::string>{"ops@customer-mail.test"});
  EXPECT_EQ(mail->mail_from, "noc@acme.test");
  EXPECT_NE(mail->data.find("From: \"Acme NOC\" <noc@acme.test>\r\n"), std::string::npos);
  EXPECT_NE(mail->data.find("Subject: [AcmeGuard] outage.test: mail server unreachable"),
            std::string::npos);
  EXPECT_NE(mail->data.find("multipart/alternative"), std::string::npos);
  EXPECT_NE(mail->data.find("Content-Type: text/plain; charset=utf-8"), std::string::npos);
  EXPECT_NE(mail->data.find("Content-Type: text/html; charset=utf-8"), std::string::npos);
  std::string parts = DecodedParts(mail->data);
  EXPECT_NE(parts.find("help@acme.test"), std::string::npos) << parts;
  EXPECT_NE(parts.find("https://acme.test/logo.png"), std::string::npos) << parts;
  EXPECT_NE(parts.find("Messages waiting in the queue: 1"), std::string::npos) << parts;
  EXPECT_EQ(parts.find("SpamWeeder"), std::string::npos) << "operator brand on a reseller alert";

  // Webhook: signed with the contact's secret.
  auto hook = hook_.WaitForRequestContaining("\"event\":\"down\"", 15s);
  ASSERT_TRUE(hook) << "no down webhook";
  EXPECT_EQ(hook->target, "/psa");
  EXPECT_EQ(hook->Header("X-SpamWeeder-Signature"), "sha256=" + HmacHex("s3cret", hook->body));
  json::object hb = ParseObject(hook->body);
  EXPECT_EQ(Str(hb, "domain"), "outage.test");
  EXPECT_EQ(Int(hb.at("queue").as_object(), "messages"), 1);

  // SMS: Twilio form with basic auth, delivered on the 4th try.
  ASSERT_TRUE(sms_.WaitForCount(4, 20s)) << "SMS not retried until accepted";
  auto sms = sms_.requests()[3];
  EXPECT_EQ(sms.method, "POST");
  EXPECT_EQ(sms.Header("Authorization"), "Basic " + Base64("AC1:tok-123"));
  EXPECT_NE(sms.body.find("To=%2B15550002222"), std::string::npos) << sms.body;
  EXPECT_NE(sms.body.find("From=%2B15550001111"), std::string::npos) << sms.body;
  EXPECT_NE(sms.body.find("DOWN"), std::string::npos) << sms.body;
  EXPECT_TRUE(PollUntil([&] { return sms_.answered_with(200) == 1; }, 5s));

  // Still down for several probe intervals, then kill -9 and restart: nothing more, nothing twice.
  std::this_thread::sleep_for(3s);
  gw_->Kill9();
  ASSERT_TRUE(gw_->Start());
  ASSERT_TRUE(gw_->log().WaitFor("event=alerts_loaded\\b", 10s));
  std::this_thread::sleep_for(4s);
  EXPECT_EQ(EmailsFor("down"), 1u);
  EXPECT_EQ(HooksFor("down"), 1u);
  EXPECT_EQ(sms_.answered_with(200), 1u);
  EXPECT_EQ(sms_.count(), 4u);

  // Recovery: the queued message drains, then one `up` saying so.
  TestSmtpServer late;
  ASSERT_TRUE(late.Start(closed.port()));
  ASSERT_TRUE(late.WaitForMessageContaining("queued-during-outage", 15s)) << id;
  auto up = sink_.WaitForMessageContaining("X-SpamWeeder-Event: up", 15s);
  ASSERT_TRUE(up) << "no up email";
  EXPECT_NE(DecodedParts(up->data).find("Queued messages delivered: 1"), std::string::npos);
  auto up_hook = hook_.WaitForRequestContaining("\"event\":\"up\"", 10s);
  ASSERT_TRUE(up_hook);
  EXPECT_EQ(Int(ParseObject(up_hook->body), "delivered"), 1);
  ASSERT_TRUE(sms_.WaitForRequestContaining("UP", 10s));
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(EmailsFor("up"), 1u);
  EXPECT_EQ(HooksFor("up"), 1u);
  EXPECT_EQ(EmailsFor("down"), 1u);
  late.Stop();

  // Status history: the closed down period, then the open up period.
  admin::HttpResult status = Api("GET", "/api/v1/domains/outage.test/status");
  ASSERT_EQ(status.status, 200u) << status.body;
  json::array history = ParseObject(status.body)["history"].as_array();
  ASSERT_GE(history.size(), 2u) << status.body;
  EXPECT_EQ(Str(history[0].as_object(), "state"), "up") << status.body;
  EXPECT_TRUE(history[0].as_object().at("until").is_null()) << status.body;
  EXPECT_EQ(Str(history[1].as_object(), "state"), "down") << status.body;
  EXPECT_FALSE(history[1].as_object().at("until").is_null()) << status.body;

  // Usage agrees with what happened: one accepted, one delivered, deferred at least once.
  ASSERT_TRUE(PollUntil(
      [&] {
        auto u = ParseObject(Api("GET", "/api/v1/usage?domain=outage.test").body);
        auto* d = u.if_contains("domains");
        if (!d || d->as_array().empty()) return false;
        const auto& total = d->as_array()[0].as_object().at("total").as_object();
        return Int(total, "accepted") == 1 && Int(total, "delivered") == 1 &&
               Int(total, "deferred") >= 1;
      },
      10s))
      << Api("GET", "/api/v1/usage?domain=outage.test").body;
  admin::HttpResult csv = Api("GET", "/api/v1/usage?domain=outage.test&format=csv");
  ASSERT_EQ(csv.status, 200u);
  EXPECT_NE(csv.body.find(",outage.test,1,1,"), std::string::npos) << csv.body;
  // Per hour (the portal's 24 h sparkline asks for a page of domains at once).
  admin::HttpResult hourly =
      Api("GET", "/api/v1/usage?granularity=hour&domains=outage.test,outage.test");
  ASSERT_EQ(hourly.status, 200u) << hourly.body;
  json::object h = ParseObject(hourly.body);
  EXPECT_EQ(Str(h, "granularity"), "hour") << hourly.body;
  ASSERT_EQ(h["domains"].as_array().size(), 1u) << hourly.body;
  const json::object& hd = h["domains"].as_array()[0].as_object();
  uint64_t accepted = 0;
  for (const auto& row : hd.at("hours").as_array()) {
    const std::string hour = Str(row.as_object(), "hour");
    EXPECT_EQ(hour.size(), 20u) << hour;  // 2026-11-30T14:00:00Z
    EXPECT_EQ(hour.substr(13), ":00:00Z") << hour;
    accepted += static_cast<uint64_t>(Int(row.as_object(), "accepted"));
  }
  EXPECT_EQ(accepted, 1u) << hourly.body;

  // History: the down and up events, every delivery sent.
  admin::HttpResult r = Api("GET", "/api/v1/alerts?domain=outage.test");
  ASSERT_EQ(r.status, 200u) << r.body;
  json::array alerts = ParseObject(r.body)["alerts"].as_array();
  ASSERT_EQ(alerts.size(), 2u) << r.body;
  for (const auto& a : alerts) {
    for (const auto& d : a.as_object().at("deliveries").as_array())
      EXPECT_EQ(Str(d.as_object(), "state"), "sent") << json::serialize(a);
    EXPECT_EQ(a.as_object().at("deliveries").as_array().size(), 3u);
  }
}

// "Send test alert": every channel of the contact, right away, whatever the domains do.
TEST_F(AlertsTest, TestAlertReachesEveryChannel) {
  ASSERT_TRUE(StartGateway(Options()));
  Provision("fine.test", Dest(sink_.port()));
  admin::HttpResult r = Api("POST", "/api/v1/customers/" + customer_ + "/contacts/test", "{}");
  ASSERT_EQ(r.status, 202u) << r.body;
  EXPECT_EQ(ParseObject(r.body)["channels"].as_array().size(), 3u) << r.body;
  auto mail = sink_.WaitForMessageContaining("X-SpamWeeder-Event: test", 10s);
  ASSERT_TRUE(mail);
  EXPECT_NE(mail->data.find("Subject: [AcmeGuard] Test alert"), std::string::npos);
  auto hook = hook_.WaitForRequestContaining("\"event\":\"test\"", 10s);
  ASSERT_TRUE(hook);
  EXPECT_EQ(hook->Header("X-SpamWeeder-Signature"), "sha256=" + HmacHex("s3cret", hook->body));
  ASSERT_TRUE(sms_.WaitForRequestContaining("test%20alert", 10s)) << "no test SMS";
  admin::HttpResult h = Api("GET", "/api/v1/alerts");
  EXPECT_NE(h.body.find("\"event\":\"test\""), std::string::npos) << h.body;
}

// A server that flaps after an outage: one down/up pair, no more.
TEST_F(AlertsTest, FlappingSendsOnePair) {
  ClosedPort closed;
  ASSERT_TRUE(StartGateway(Options("3s")));
  Provision("flappy.test", Dest(closed.port()));
  SendOk({"sender@client.test", {"user@flappy.test"}, ""}, SimpleMessage("flap-1"));
  ASSERT_TRUE(sink_.WaitForMessageContaining("X-SpamWeeder-Event: down", 15s));
  TestSmtpServer late;
  ASSERT_TRUE(late.Start(closed.port()));
  ASSERT_TRUE(sink_.WaitForMessageContaining("X-SpamWeeder-Event: up", 15s));
  for (int i = 0; i < 2; ++i) {  // down and up again, each time well within the grace
    late.Stop();
    std::string id = SendOk({"sender@client.test", {"user@flappy.test"}, ""},
                            SimpleMessage("flap-again-" + std::to_string(i)));
    ASSERT_TRUE(gw_->log().WaitFor(DeferredRe(id), 10s));
    ASSERT_TRUE(late.Start(closed.port()));
    ASSERT_TRUE(late.WaitForMessageContaining("flap-again-" + std::to_string(i), 10s));
  }
  std::this_thread::sleep_for(4s);
  EXPECT_EQ(EmailsFor("down"), 1u);
  EXPECT_EQ(EmailsFor("up"), 1u);
  EXPECT_EQ(HooksFor("down"), 1u);
  EXPECT_EQ(HooksFor("up"), 1u);
  EXPECT_GE(gw_->CountInAllLogs("event=domain_down\\b.*domain=flappy\\.test"), 3u)
      << "the queue saw three outages";
  late.Stop();
}

}  // namespace
}  // namespace sw::it
