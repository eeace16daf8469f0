// What alerts say: the reseller's brand and never the operator's, no header injection from
// tenant-supplied names, encoded non-ASCII subjects, escaped HTML, SMS length, the webhook
// signature (RFC 4231 vector). Fails with a GoogleTest assertion.
#include "alerts/alert_message.h"

#include <gtest/gtest.h>

#include <regex>

namespace sw::alerts {
namespace {

AlertEvent Down() {
  AlertEvent e;
  e.id = "shop.test/0001764489600000/down";
  e.kind = AlertKind::kDown;
  e.domain = "shop.test";
  e.since_ms = 1764489600000;
  e.at_ms = e.since_ms + 300000;
  e.queue_messages = 7;
  e.error = "connect to [192.0.2.1]:25: Connection refused";
  return e;
}

control::Reseller Acme() {
  control::Reseller r;
  r.id = "r_1";
  r.name = "Acme";
  r.branding.product_name = "AcmeGuard";
  r.branding.alert_from = "noc@acme.test";
  r.branding.alert_from_name = "Acme NOC";
  r.branding.support_email = "help@acme.test";
  return r;
}

TEST(AlertMessage, ResellerBrandReplacesTheOperatorsEntirely) {
  config::AlertBrand op;
  op.product_name = "OperatorMail";
  op.support_email = "support@operator.test";
  op.logo_url = "https://operator.test/logo.png";
  control::Reseller r = Acme();
  Brand b = BrandFor(&r, op, "mx.test");
  EXPECT_EQ(b.product_name, "AcmeGuard");
  EXPECT_EQ(b.from, "noc@acme.test");
  std::string m = EmailMessage(Down(), b, "ops@shop.test", "mx.test", Down().at_ms);
  EXPECT_EQ(m.find("operator"), std::string::npos) << m;
  EXPECT_EQ(m.find("OperatorMail"), std::string::npos) << m;

  r.branding = {};  // a reseller without branding: its name, the gateway's address
  b = BrandFor(&r, op, "mx.test");
  EXPECT_EQ(b.product_name, "Acme");
  EXPECT_EQ(b.from, "alerts@mx.test");
  EXPECT_EQ(b.support_email, "");
  EXPECT_EQ(b.logo_url, "");

  b = BrandFor(nullptr, op, "mx.test");  // a direct customer: the operator's brand
  EXPECT_EQ(b.product_name, "OperatorMail");
}

TEST(AlertMessage, TenantTextCannotInjectHeaders) {
  control::Reseller r = Acme();
  r.branding.alert_from_name = "Acme\r\nBcc: victim@evil.test";
  r.branding.product_name = "Guard\nX-Injected: yes";
  Brand b = BrandFor(&r, {}, "mx.test");
  std::string m = EmailMessage(Down(), b, "ops@shop.test\r\nBcc: x@evil.test", "mx.test", 0);
  std::string head = m.substr(0, m.find("\r\n\r\n"));
  EXPECT_EQ(head.find("\nBcc:"), std::string::npos) << head;
  EXPECT_EQ(head.find("\nX-Injected"), std::string::npos) << head;
  // Every header line is a field or a folded continuation; no bare CR or LF.
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r') {
      EXPECT_EQ(head[i + 1], '\n');
    }
    if (head[i] == '\n') {
      EXPECT_EQ(head[i - 1], '\r');
    }
  }
}

TEST(AlertMessage, NonAsciiSubjectIsEncodedAndHtmlEscaped) {
  control::Reseller r = Acme();
  r.branding.product_name = "Wächter <b>";
  Brand b = BrandFor(&r, {}, "mx.test");
  std::string m = EmailMessage(Down(), b, "ops@shop.test", "mx.test", 0);
  std::smatch subject;
  ASSERT_TRUE(std::regex_search(m, subject, std::regex("Subject: ([^\r]*)\r\n")));
  EXPECT_EQ(subject[1].str().rfind("=?UTF-8?B?", 0), 0u) << subject[1];
  for (unsigned char c : m.substr(0, m.find("\r\n\r\n"))) EXPECT_LT(c, 0x80) << "8-bit header";
}

TEST(AlertMessage, SmsIsShortAndSaysWhatHappened) {
  control::Reseller r = Acme();
  Brand b = BrandFor(&r, {}, "mx.test");
  AlertEvent e = Down();
  e.domain = std::string(400, 'a') + ".test";
  std::string t = SmsText(e, b);
  EXPECT_LE(t.size(), 320u);
  e = Down();
  t = SmsText(e, b);
  EXPECT_NE(t.find("AcmeGuard"), std::string::npos) << t;
  EXPECT_NE(t.find("shop.test"), std::string::npos) << t;
  EXPECT_NE(t.find("DOWN"), std::string::npos) << t;
}

TEST(AlertMessage, WebhookBodyAndSignature) {
  EXPECT_EQ(Signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  AlertEvent e = Down();
  std::string body = WebhookBody(e, BrandFor(nullptr, {}, "mx.test"));
  EXPECT_NE(body.find("\"event\":\"down\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"domain\":\"shop.test\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"messages\":7"), std::string::npos) << body;
}

TEST(AlertEvent, JsonRoundTrip) {
  AlertEvent e = Down();
  e.customer = "c_1";
  e.reseller = "r_1";
  Delivery d;
  d.channel = Channel::kWebhook;
  d.to = "https://psa.test/hook";
  d.state = "sent";
  d.attempts = 2;
  d.sent_ms = e.at_ms + 5;
  e.deliveries = {d};
  AlertEvent back;
  ASSERT_TRUE(ParseEvent(EventJson(e), &back));
  EXPECT_EQ(back.id, e.id);
  EXPECT_EQ(back.kind, AlertKind::kDown);
  EXPECT_EQ(back.since_ms, e.since_ms);
  EXPECT_EQ(back.queue_messages, 7u);
  ASSERT_EQ(back.deliveries.size(), 1u);
  EXPECT_EQ(back.deliveries[0].channel, Channel::kWebhook);
  EXPECT_EQ(back.deliveries[0].attempts, 2u);
  EXPECT_EQ(back.deliveries[0].sent_ms, d.sent_ms);
  EXPECT_FALSE(ParseEvent("{\"event\":\"exploded\"}", &back));
  EXPECT_FALSE(ParseEvent("not json", &back));
}

}  // namespace
}  // namespace sw::alerts
