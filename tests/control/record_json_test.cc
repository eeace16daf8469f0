// Domain and tenant records as JSON: API input validation names the field at fault, PATCH
// merges, stored forms round-trip (secrets kept in the store, masked in views).
// Fails with a GoogleTest assertion.
#include <gtest/gtest.h>

#include "control/domain_json.h"
#include "control/tenant_json.h"

namespace sw::control {
namespace {

namespace json = boost::json;

json::object Obj(const std::string& text) { return json::parse(text).as_object(); }

std::string FieldOf(const std::string& body, DomainInput mode = DomainInput::kCreate) {
  DomainRecord d;
  d.domain.name = "shop.test";
  auto e = ApplyDomainJson(Obj(body), mode, &d);
  return e ? e->field : "";
}

TEST(DomainJsonTest, CreateNeedsNameAndDestinations) {
  EXPECT_EQ(FieldOf(R"({"destinations":["[127.0.0.1]:25"]})"), "name");
  EXPECT_EQ(FieldOf(R"({"name":"shop.test"})"), "destinations");
  EXPECT_EQ(FieldOf(R"({"name":"1.2.3.4","destinations":["a.test"]})"), "name");
  EXPECT_EQ(FieldOf(R"({"name":"a..b","destinations":["a.test"]})"), "name");
  EXPECT_EQ(FieldOf(R"({"name":"ok.test","destinations":["a.test"]})"), "");
}

TEST(DomainJsonTest, BadValuesNameTheirField) {
  const std::string base = R"("name":"shop.test","destinations":["a.test"])";
  EXPECT_EQ(FieldOf("{" + base + R"(,"spam":{"tag_score":"x"}})"), "spam.tag_score");
  EXPECT_EQ(FieldOf("{" + base + R"(,"spam":{"tag_score":20,"reject_score":10}})"),
            "spam.tag_score");
  EXPECT_EQ(FieldOf("{" + base + R"(,"spam":{"colour":1}})"), "spam.colour");
  EXPECT_EQ(FieldOf("{" + base + R"(,"bogus":1})"), "bogus");
  EXPECT_EQ(FieldOf("{" + base + R"(,"tls":"maybe"})"), "tls");
  EXPECT_EQ(FieldOf("{" + base + R"(,"filtering":"yes"})"), "filtering");
  EXPECT_EQ(FieldOf(R"({"name":"shop.test","destinations":["a.test","[bad"]})"), "destinations[1]");
  EXPECT_EQ(FieldOf(R"({"name":"shop.test","destinations":[]})"), "destinations");
  EXPECT_EQ(FieldOf("{" + base + R"(,"recipients":["bob@other.test"]})"), "recipients[0]");
  EXPECT_EQ(FieldOf("{" + base + R"(,"spam":{"subject_tag":"a\r\nBcc: x"}})"), "spam.subject_tag")
      << "no header injection through the subject tag";
}

TEST(DomainJsonTest, PatchMergesSpamAndKeepsTheRest) {
  DomainRecord d;
  ASSERT_FALSE(ApplyDomainJson(
      Obj(R"({"name":"Shop.Test.","destinations":["a.test"],"spam":{"reject_score":12}})"),
      DomainInput::kCreate, &d));
  EXPECT_EQ(d.domain.name, "shop.test");
  ASSERT_FALSE(ApplyDomainJson(Obj(R"({"spam":{"tag_score":3},"filtering":true})"),
                               DomainInput::kPatch, &d));
  EXPECT_EQ(d.domain.spam.tag_score, 3);
  EXPECT_EQ(d.domain.spam.reject_score, 12);
  EXPECT_TRUE(d.domain.filtering);
  ASSERT_EQ(d.domain.destinations.size(), 1u);
  auto e = ApplyDomainJson(Obj(R"({"name":"other.test"})"), DomainInput::kPatch, &d);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "name");
}

TEST(DomainJsonTest, StoredFormRoundTrips) {
  DomainRecord d;
  ASSERT_FALSE(
      ApplyDomainJson(Obj(R"({"name":"shop.test","destinations":["[10.0.0.1]:2525","mx.shop.test"],
              "filtering":true,"spam":{"tag_score":5.5,"reject_score":null,"subject_tag":"[S]"},
              "tls":"verify","recipients":["bob","alice@shop.test"],"customer":"c_1"})"),
                      DomainInput::kCreate, &d));
  d.domain.state = config::DomainState::kDeleted;
  d.domain.source = config::DomainSource::kApi;
  d.domain.version = 9;
  d.created_ms = 1000;
  DomainRecord back;
  ASSERT_TRUE(LoadDomain(StoreDomain(d), &back));
  EXPECT_EQ(json::serialize(DomainView(back)), json::serialize(DomainView(d)));
  EXPECT_EQ(back.domain.state, config::DomainState::kDeleted);
  EXPECT_EQ(back.domain.version, 9u);
  EXPECT_EQ(back.domain.source, config::DomainSource::kApi);
  EXPECT_EQ(back.domain.tls, config::TlsPolicy::kVerify);
  EXPECT_FALSE(back.domain.spam.reject_score);
  EXPECT_EQ(DomainView(d).at("spam").at("tag_score").as_double(), 5.5);
}

TEST(TenantJsonTest, ResellerValidation) {
  Reseller r;
  auto e = ApplyResellerJson(Obj(R"({"name":"A","branding":{"primary_color":"red"}})"), &r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "branding.primary_color");
  e = ApplyResellerJson(Obj(R"({"name":"A","plan":{"max_domains":-1}})"), &r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "plan.max_domains");
  Reseller unnamed;
  e = ApplyResellerJson(Obj(R"({"plan":{}})"), &unnamed);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "name");
  Reseller ok;
  ASSERT_FALSE(ApplyResellerJson(
      Obj(R"({"name":"A","plan":{"max_domains":5},"branding":{"product_name":"MailShield",
              "primary_color":"#0a7c3e","portal_host":"mail.msp.test"}})"),
      &ok));
  ok.id = "r_1";
  Reseller back;
  ASSERT_TRUE(LoadReseller(StoreReseller(ok), &back));
  EXPECT_EQ(back.max_domains, 5u);
  EXPECT_EQ(back.branding.portal_host, "mail.msp.test");
}

// Seen while writing fuzz/provisioning_json_fuzz (its seed reseller_huge_plan crashed it): a
// max_domains above INT64_MAX (a uint64 in Boost.JSON) threw from to_number<int64_t> instead of
// being read, so the admin request got no reply at all.
TEST(TenantJsonTest, HugeMaxDomainsIsReadNotThrown) {
  Reseller r;
  r.id = "r_1";
  MaybeError e;
  ASSERT_NO_THROW(e = ApplyResellerJson(
                      Obj(R"({"name":"A","plan":{"max_domains":18446744073709551615}})"), &r));
  ASSERT_FALSE(e);
  EXPECT_EQ(r.max_domains, UINT64_MAX);
  Reseller back;
  ASSERT_TRUE(LoadReseller(StoreReseller(r), &back));
  EXPECT_EQ(back.max_domains, UINT64_MAX);
  e = ApplyResellerJson(Obj(R"({"name":"A","plan":{"max_domains":1e3}})"), &r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "plan.max_domains");
}

TEST(TenantJsonTest, WebhookSecretIsMaskedInViewsAndKeptOnPatch) {
  Customer c;
  ASSERT_FALSE(ApplyCustomerJson(
      Obj(R"({"name":"Shop","contacts":[{"email":"ops@shop.test","webhook":"https://h.test/x",
              "webhook_secret":"s3cret","events":["down","up"]}]})"),
      false, &c));
  EXPECT_EQ(CustomerView(c).at("contacts").as_array()[0].at("webhook_secret"), "***");
  // The view sent back unchanged keeps the stored secret.
  json::object view = CustomerView(c);
  view.erase("reseller");
  ASSERT_FALSE(ApplyCustomerJson(view, false, &c));
  EXPECT_EQ(c.contacts[0].webhook_secret, "s3cret");
  c.id = "c_1";
  Customer back;
  ASSERT_TRUE(LoadCustomer(StoreCustomer(c), &back));
  EXPECT_EQ(back.contacts[0].webhook_secret, "s3cret");
  auto e =
      ApplyCustomerJson(Obj(R"({"name":"x","contacts":[{"events":["sometimes"]}]})"), false, &c);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "contacts[0].events");
  e = ApplyCustomerJson(Obj(R"({"name":"x","reseller":"r_2"})"), false, &c);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "reseller") << "only the operator moves customers between resellers";
}

}  // namespace
}  // namespace sw::control
