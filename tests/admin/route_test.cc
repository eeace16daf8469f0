// Tests the admin API's URL map, %-decoding, and the bearer token check.
// Fails by gtest assertion; pure functions, no I/O.
#include "admin/route.h"

#include <gtest/gtest.h>

#include "admin/bearer_auth.h"

namespace sw::admin {
namespace {

Route Parse(std::string_view target) {
  std::string error;
  auto r = ParseRoute(target, &error);
  EXPECT_TRUE(r) << target << ": " << error;
  return r ? *r : Route{};
}

TEST(RouteTest, MatchesEveryEndpoint) {
  EXPECT_EQ(Parse("/healthz").endpoint, Endpoint::kHealthz);
  EXPECT_FALSE(Parse("/healthz").api);
  EXPECT_EQ(Parse("/metrics").endpoint, Endpoint::kMetrics);
  EXPECT_EQ(Parse("/api/v1/queue").endpoint, Endpoint::kQueueList);
  EXPECT_TRUE(Parse("/api/v1/queue").api);
  EXPECT_EQ(Parse("/api/v1/queue/").endpoint, Endpoint::kQueueList);
  EXPECT_EQ(Parse("/api/v1/queue/summary").endpoint, Endpoint::kQueueSummary);

  Route m = Parse("/api/v1/queue/00066148161E0309");
  EXPECT_EQ(m.endpoint, Endpoint::kMessage);
  EXPECT_EQ(m.id, "00066148161E0309");
  for (const char* a : {"flush", "hold", "release", "bounce"}) {
    Route r = Parse(std::string("/api/v1/queue/00066148161E0309/") + a);
    EXPECT_EQ(r.endpoint, Endpoint::kMessageAction) << a;
    EXPECT_EQ(r.id, "00066148161E0309");
    EXPECT_EQ(r.action, a);
  }
  for (const char* a : {"flush", "hold", "release", "delete", "bounce"}) {
    Route r = Parse(std::string("/api/v1/domains/Example.COM./") + a);
    EXPECT_EQ(r.endpoint, Endpoint::kDomainAction) << a;
    EXPECT_EQ(r.domain, "example.com");
    EXPECT_EQ(r.action, a);
    EXPECT_TRUE(r.api);
  }
}

TEST(RouteTest, UnknownPathsAndActions) {
  for (const char* t :
       {"/", "/api", "/api/v1", "/api/v2/queue", "/api/v1/queue/ID/delete",
        "/api/v1/queue/ID/flush/more", "/api/v1/domains/x.test/more/x", "/api/v1/resellers/r/x",
        "/api/v1/tokenz", "/healthz/x", "/metricsx", "/api//v1/queue"}) {
    EXPECT_EQ(Parse(t).endpoint, Endpoint::kUnknown) << t;
  }
  EXPECT_TRUE(Parse("/api/v2/queue").api) << "anything under /api/ needs the token";
  EXPECT_FALSE(Parse("/apix").api);
}

TEST(RouteTest, ProvisioningEndpoints) {
  EXPECT_EQ(Parse("/api/v1/resellers").endpoint, Endpoint::kResellers);
  EXPECT_EQ(Parse("/api/v1/resellers/r_1").endpoint, Endpoint::kReseller);
  EXPECT_EQ(Parse("/api/v1/resellers/r_1").id, "r_1");
  EXPECT_EQ(Parse("/api/v1/customers").endpoint, Endpoint::kCustomers);
  EXPECT_EQ(Parse("/api/v1/customers/c_1").endpoint, Endpoint::kCustomer);
  EXPECT_EQ(Parse("/api/v1/domains").endpoint, Endpoint::kDomains);
  EXPECT_EQ(Parse("/api/v1/domains:batch").endpoint, Endpoint::kDomainsBatch);
  Route d = Parse("/api/v1/domains/Shop.Example.");
  EXPECT_EQ(d.endpoint, Endpoint::kDomain);
  EXPECT_EQ(d.id, "shop.example") << "names are case-insensitive, one trailing dot dropped";
  EXPECT_EQ(Parse("/api/v1/domains/a.test/status").endpoint, Endpoint::kDomainStatus);
  EXPECT_EQ(Parse("/api/v1/domains/a.test/verify").endpoint, Endpoint::kDomainVerify);
  EXPECT_EQ(Parse("/api/v1/tokens").endpoint, Endpoint::kTokens);
  EXPECT_EQ(Parse("/api/v1/tokens/t_1").endpoint, Endpoint::kToken);
  EXPECT_EQ(Parse("/api/v1/audit?after=3").endpoint, Endpoint::kAudit);
  EXPECT_EQ(Parse("/api/v1/cluster/nodes").endpoint, Endpoint::kClusterNodes);
  EXPECT_EQ(Parse("/api/v1/cluster/other").endpoint, Endpoint::kUnknown);
  EXPECT_STREQ(AllowedMethods(Endpoint::kClusterNodes), "GET");
  EXPECT_TRUE(MethodAllowed(Endpoint::kDomain, "PATCH"));
  EXPECT_FALSE(MethodAllowed(Endpoint::kDomain, "POST"));
  EXPECT_FALSE(MethodAllowed(Endpoint::kToken, "GET"));
  EXPECT_FALSE(MethodAllowed(Endpoint::kDomains, "GET, POST"));
  EXPECT_STREQ(AllowedMethods(Endpoint::kDomains), "GET, POST");
}

TEST(RouteTest, ParsesAndDecodesTheQuery) {
  Route r = Parse("/api/v1/queue?domain=ex%41mple.com&limit=10&after=00066148161E0309&x&y=a+b");
  EXPECT_EQ(r.endpoint, Endpoint::kQueueList);
  EXPECT_EQ(r.query["domain"], "exAmple.com");
  EXPECT_EQ(r.query["limit"], "10");
  EXPECT_EQ(r.query["after"], "00066148161E0309");
  EXPECT_EQ(r.query["x"], "");
  EXPECT_EQ(r.query["y"], "a b");
  EXPECT_EQ(Parse("/api/v1/queue?limit=1&limit=2").query["limit"], "2");
  EXPECT_EQ(Parse("/api/v1/queue?").endpoint, Endpoint::kQueueList);
}

TEST(RouteTest, DecodesPathSegmentsAfterSplitting) {
  Route r = Parse("/api/v1/domains/a%2Fb.test/hold");
  EXPECT_EQ(r.endpoint, Endpoint::kDomainAction);
  EXPECT_EQ(r.domain, "a/b.test");
  EXPECT_EQ(Parse("/api/v1/queue/a+b").id, "a+b") << "'+' is literal in paths";
}

TEST(RouteTest, RejectsMalformedTargets) {
  std::string error;
  EXPECT_FALSE(ParseRoute("", &error));
  EXPECT_FALSE(ParseRoute("api/v1/queue", &error));
  EXPECT_FALSE(ParseRoute("http://host/api/v1/queue", &error));
  EXPECT_FALSE(ParseRoute("/api/v1/queue/%zz", &error));
  EXPECT_FALSE(ParseRoute("/api/v1/queue/%4", &error));
  EXPECT_FALSE(ParseRoute("/api/v1/queue?after=%", &error));
  EXPECT_FALSE(error.empty());
}

TEST(RouteTest, PercentDecode) {
  EXPECT_EQ(PercentDecode("%41%62c%20+", false), "Abc +");
  EXPECT_EQ(PercentDecode("%41%62c%20+", true), "Abc  ");
  EXPECT_EQ(PercentDecode("%e2%82%ac", false), "\xe2\x82\xac");
  EXPECT_FALSE(PercentDecode("%g1", false));
  EXPECT_FALSE(PercentDecode("x%", false));
}

TEST(RouteTest, MethodsPerEndpoint) {
  EXPECT_TRUE(MethodAllowed(Endpoint::kHealthz, "GET"));
  EXPECT_FALSE(MethodAllowed(Endpoint::kHealthz, "POST"));
  EXPECT_TRUE(MethodAllowed(Endpoint::kQueueList, "GET"));
  EXPECT_FALSE(MethodAllowed(Endpoint::kQueueList, "DELETE"));
  EXPECT_TRUE(MethodAllowed(Endpoint::kMessage, "GET"));
  EXPECT_TRUE(MethodAllowed(Endpoint::kMessage, "DELETE"));
  EXPECT_FALSE(MethodAllowed(Endpoint::kMessage, "POST"));
  EXPECT_TRUE(MethodAllowed(Endpoint::kMessageAction, "POST"));
  EXPECT_FALSE(MethodAllowed(Endpoint::kMessageAction, "GET"));
  EXPECT_TRUE(MethodAllowed(Endpoint::kDomainAction, "POST"));
  EXPECT_FALSE(MethodAllowed(Endpoint::kDomainAction, "get")) << "methods are case-sensitive";
  EXPECT_STREQ(AllowedMethods(Endpoint::kMessage), "GET, DELETE");
  EXPECT_STREQ(AllowedMethods(Endpoint::kDomainAction), "POST");
}

TEST(BearerAuthTest, AcceptsOnlyTheExactToken) {
  const std::string token = "s3cret-Token";
  EXPECT_EQ(CheckBearer("Bearer s3cret-Token", token), AuthResult::kOk);
  EXPECT_EQ(CheckBearer("bearer s3cret-Token", token), AuthResult::kOk) << "scheme is case-free";
  EXPECT_EQ(CheckBearer("BEARER   s3cret-Token  ", token), AuthResult::kOk);
  EXPECT_EQ(CheckBearer("Bearer s3cret-token", token), AuthResult::kWrong) << "token is exact";
  EXPECT_EQ(CheckBearer("Bearer s3cret-Token2", token), AuthResult::kWrong);
  EXPECT_EQ(CheckBearer("Bearer s3cret-Toke", token), AuthResult::kWrong);
  EXPECT_EQ(CheckBearer("Bearer x", token), AuthResult::kWrong);
}

TEST(BearerAuthTest, MissingOrOtherSchemes) {
  const std::string token = "s3cret";
  EXPECT_EQ(CheckBearer("", token), AuthResult::kMissing);
  EXPECT_EQ(CheckBearer("Bearer", token), AuthResult::kMissing);
  EXPECT_EQ(CheckBearer("Bearer ", token), AuthResult::kMissing);
  EXPECT_EQ(CheckBearer("Bearers3cret", token), AuthResult::kMissing);
  EXPECT_EQ(CheckBearer("Basic czNjcmV0Og==", token), AuthResult::kMissing);
  EXPECT_EQ(CheckBearer("s3cret", token), AuthResult::kMissing);
}

TEST(BearerAuthTest, UnconfiguredTokenRefusesEveryone) {
  EXPECT_EQ(CheckBearer("Bearer CHANGE-ME", "CHANGE-ME"), AuthResult::kNotConfigured);
  EXPECT_EQ(CheckBearer("Bearer ", ""), AuthResult::kNotConfigured);
  EXPECT_EQ(CheckBearer("", ""), AuthResult::kNotConfigured);
}

TEST(BearerAuthTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
  EXPECT_FALSE(ConstantTimeEquals("abc", std::string("abc\0", 4))) << "padding is not equality";
}

}  // namespace
}  // namespace sw::admin
