// Owns the provisioning API (admin/PROVISIONING.md) end to end: tenant isolation, roles, live
// domains on the SMTP path, errors, persistence, rate limits. Fails with the gateway's log dumped.
#include "tests/integration/provisioning_fixture.h"

namespace sw::it {
namespace {

TEST_F(ProvisioningTest, TenantIsolationTable) {
  ASSERT_TRUE(Start());
  ClosedPort reserved;  // B's server: nothing listens there
  uint16_t down_port = reserved.port();
  std::string ra = CreateReseller("Reseller A");
  std::string rb = CreateReseller("Reseller B");
  ASSERT_FALSE(ra.empty() || rb.empty());
  std::string ca = CreateCustomer("Customer A", ra);
  std::string cb = CreateCustomer("Customer B", rb);
  ASSERT_FALSE(ca.empty() || cb.empty());
  const std::string da = "tenant-a.test", db = "tenant-b.test";
  CreateDomain(da, ca, {SinkDest()});
  CreateDomain(db, cb, {Dest(down_port)});
  TokenInfo ta = CreateToken(ra, "admin");
  TokenInfo tb = CreateToken(rb, "admin");
  ASSERT_FALSE(ta.token.empty() || tb.token.empty());
  // B's customer has a contact (a test alert needs one); its webhook goes nowhere.
  const std::string hook = "http://127.0.0.1:" + std::to_string(down_port) + "/hook";
  admin::HttpResult contacts =
      Api(kOperator, "PATCH", "/api/v1/customers/" + cb,
          R"({"contacts": [{"name": "B ops", "webhook": ")" + hook + R"("}]})");
  ASSERT_EQ(contacts.status, 200u) << Describe(contacts);

  // B's mail waits in the queue.
  ASSERT_TRUE(TimeUntilRcpt("user@" + db, "250", 3s)) << db << " takes no mail";
  std::string bid = SendDeferred("user@" + db, "isolation-b");
  ASSERT_FALSE(bid.empty());
  EXPECT_TRUE(Contains(Api(kOperator, "GET", "/api/v1/queue").body, bid));

  // A's token works on A's own objects (so the 404s below are about scope, not the token).
  EXPECT_EQ(Api(ta.token, "GET", "/api/v1/domains/" + da).status, 200u);
  EXPECT_EQ(Api(ta.token, "GET", "/api/v1/customers/" + ca).status, 200u);
  EXPECT_EQ(Api(ta.token, "GET", "/api/v1/resellers/" + ra).status, 200u);

  // The operator's view of B before A tries anything.
  json::value b_domain = OperatorGet("/api/v1/domains/" + db);
  json::value b_customer = OperatorGet("/api/v1/customers/" + cb);
  json::value b_reseller = OperatorGet("/api/v1/resellers/" + rb);

  struct Call {
    std::string method, target, body;
  };
  const std::string patch_domain = R"({"filtering": true, "destinations": ["[127.0.0.1]:9"]})";
  const std::string patch_name = R"({"name": "hijacked"})";
  const std::vector<Call> calls = {
      {"GET", "/api/v1/domains/" + db, ""},
      {"PATCH", "/api/v1/domains/" + db, patch_domain},
      {"GET", "/api/v1/domains/" + db + "/status", ""},
      {"POST", "/api/v1/domains/" + db + "/verify", ""},
      {"POST", "/api/v1/domains/" + db + "/flush", ""},
      {"POST", "/api/v1/domains/" + db + "/hold", ""},
      {"POST", "/api/v1/domains/" + db + "/release", ""},
      {"POST", "/api/v1/domains/" + db + "/delete", ""},
      {"POST", "/api/v1/domains/" + db + "/bounce", ""},
      {"GET", "/api/v1/customers/" + cb, ""},
      {"PATCH", "/api/v1/customers/" + cb, patch_name},
      {"GET", "/api/v1/resellers/" + rb, ""},
      {"PATCH", "/api/v1/resellers/" + rb, patch_name},
      {"GET", "/api/v1/queue/" + bid, ""},
      {"POST", "/api/v1/queue/" + bid + "/flush", ""},
      {"POST", "/api/v1/queue/" + bid + "/hold", ""},
      {"POST", "/api/v1/queue/" + bid + "/release", ""},
      {"POST", "/api/v1/queue/" + bid + "/bounce", ""},
      {"DELETE", "/api/v1/queue/" + bid, ""},
      {"DELETE", "/api/v1/tokens/" + tb.id, ""},
      {"DELETE", "/api/v1/domains/" + db, ""},
      {"DELETE", "/api/v1/customers/" + cb, ""},
      {"DELETE", "/api/v1/resellers/" + rb, ""},
      {"POST", "/api/v1/tokens", R"({"account": ")" + cb + R"(", "role": "admin"})"},
      {"POST", "/api/v1/tokens", R"({"account": ")" + rb + R"(", "role": "read"})"},
      {"GET", "/api/v1/alerts?domain=" + db, ""},
      {"GET", "/api/v1/usage?domain=" + db, ""},
      {"GET", "/api/v1/usage?domain=" + db + "&format=csv", ""},
      {"GET", "/api/v1/usage?granularity=hour&domains=" + db, ""},
      {"POST", "/api/v1/customers/" + cb + "/contacts/test", ""},
      {"POST", "/api/v1/customers/" + cb + "/contacts/test", R"({"contact": 0})"},
      {"GET", "/api/v1/cluster/nodes", ""},  // the operator's only
  };
  for (const auto& c : calls) {
    admin::HttpResult r = Api(ta.token, c.method, c.target, c.body);
    ASSERT_TRUE(r.ok) << c.method << " " << c.target << ": " << r.error;
    EXPECT_EQ(r.status, 404u) << "reseller A: " << c.method << " " << c.target << " -> "
                              << Describe(r);
  }

  // Creating under B's customer is answered exactly as for a customer that does not exist
  // (422 naming `customer`), one by one and in a batch: nothing tells A that B's exists.
  for (const std::string& customer : {cb, std::string("c_0000000000000000")}) {
    admin::HttpResult one = Api(ta.token, "POST", "/api/v1/domains",
                                DomainBody("intruder.test", customer, {SinkDest()}));
    EXPECT_EQ(one.status, 422u) << Describe(one);
    EXPECT_NE(one.body.find("\"field\":\"customer\""), std::string::npos) << one.body;
    json::array items{DomainBody("intruder-b.test", customer, {SinkDest()})};
    admin::HttpResult batch =
        Api(ta.token, "POST", "/api/v1/domains:batch", json::object{{"domains", std::move(items)}});
    EXPECT_EQ(batch.status, 200u) << Describe(batch);
    EXPECT_NE(batch.body.find("\"status\":422"), std::string::npos) << batch.body;
  }
  EXPECT_EQ(Api(kOperator, "GET", "/api/v1/domains/intruder.test").status, 404u);
  EXPECT_EQ(Api(kOperator, "GET", "/api/v1/domains/intruder-b.test").status, 404u);

  // Queue listings: never a message of B (404 for the foreign filter is fine too).
  for (const std::string& target : {"/api/v1/queue?domain=" + db, std::string("/api/v1/queue")}) {
    admin::HttpResult r = Api(ta.token, "GET", target);
    EXPECT_TRUE(r.status == 200u || r.status == 404u) << target << ": " << Describe(r);
    EXPECT_FALSE(Contains(r.body, bid)) << target << " shows B's message: " << r.body;
  }
  admin::HttpResult summary = Api(ta.token, "GET", "/api/v1/queue/summary");
  EXPECT_EQ(summary.status, 200u) << Describe(summary);
  EXPECT_FALSE(Contains(summary.body, db)) << summary.body;

  // Lists: A's objects, nothing of B.
  const std::vector<std::pair<std::string, std::string>> lists = {
      {"/api/v1/domains", da},   {"/api/v1/customers", ca}, {"/api/v1/resellers", ra},
      {"/api/v1/tokens", ta.id}, {"/api/v1/audit", da},     {"/api/v1/usage", da}};
  for (const auto& [target, own] : lists) {
    admin::HttpResult r = Api(ta.token, "GET", target);
    EXPECT_EQ(r.status, 200u) << target << ": " << Describe(r);
    EXPECT_TRUE(Contains(r.body, own)) << target << " lacks A's " << own << ": " << r.body;
    for (const std::string& b : {db, cb, rb, tb.id, bid})
      EXPECT_FALSE(Contains(r.body, b)) << target << " shows B's " << b << ": " << r.body;
  }
  admin::HttpResult alerts = Api(ta.token, "GET", "/api/v1/alerts");
  EXPECT_EQ(alerts.status, 200u) << Describe(alerts);
  for (const std::string& b : {db, cb, rb})
    EXPECT_FALSE(Contains(alerts.body, b)) << "A's alerts show B's " << b << ": " << alerts.body;
  admin::HttpResult search = Api(ta.token, "GET", "/api/v1/domains?search=tenant");
  EXPECT_EQ(search.status, 200u) << Describe(search);
  EXPECT_FALSE(Contains(search.body, db)) << search.body;

  // B is intact: same objects, the message still queued and not held, B's token still works.
  EXPECT_EQ(OperatorGet("/api/v1/domains/" + db), b_domain);
  EXPECT_EQ(OperatorGet("/api/v1/customers/" + cb), b_customer);
  EXPECT_EQ(OperatorGet("/api/v1/resellers/" + rb), b_reseller);
  json::value msg = OperatorGet("/api/v1/queue/" + bid);
  EXPECT_TRUE(msg.is_object()) << "B's message left the queue";
  admin::HttpResult listing = Api(kOperator, "GET", "/api/v1/queue?domain=" + db);
  bool listed = false;
  json::value lv = Parse(listing.body);
  if (lv.is_object())
    if (auto* msgs = lv.as_object().if_contains("messages"); msgs && msgs->is_array())
      for (const auto& m : msgs->as_array())
        if (m.is_object() && Str(m.as_object(), "id") == bid) {
          listed = true;
          EXPECT_EQ(m.as_object().at("held"), json::value(false)) << "A held B's message";
        }
  EXPECT_TRUE(listed) << "B's message gone: " << listing.body;
  EXPECT_EQ(Api(tb.token, "GET", "/api/v1/domains/" + db).status, 200u);
  EXPECT_TRUE(Contains(Api(kOperator, "GET", "/api/v1/tokens").body, tb.id));
  EXPECT_TRUE(ReplyIs(Rcpt("user@" + db), "250"));
  EXPECT_TRUE(sink_.MessagesContaining("isolation-b").empty()) << "B's mail went elsewhere";

  // The owner gets what A was refused (last: the test alert is really sent).
  auto own_alerts = Expect(200, Api(tb.token, "GET", "/api/v1/alerts?domain=" + db), "B alerts");
  EXPECT_TRUE(own_alerts.contains("alerts")) << json::serialize(own_alerts);
  auto own_usage = Expect(200, Api(tb.token, "GET", "/api/v1/usage?domain=" + db), "B usage");
  EXPECT_TRUE(Contains(json::serialize(own_usage), db)) << json::serialize(own_usage);
  auto test = Expect(202, Api(tb.token, "POST", "/api/v1/customers/" + cb + "/contacts/test"),
                     "B's test alert");
  EXPECT_TRUE(Str(test, "id").rfind("~" + cb + "/", 0) == 0) << json::serialize(test);
  EXPECT_TRUE(Contains(json::serialize(test), hook)) << json::serialize(test);
}

TEST_F(ProvisioningTest, ReadTokenGets403OnWrites) {
  ASSERT_TRUE(Start());
  std::string c = CreateCustomer("Read Only Ltd", "");
  ASSERT_FALSE(c.empty());
  const std::string d = "readonly.test";
  CreateDomain(d, c, {SinkDest()});
  TokenInfo read = CreateToken(c, "read");
  TokenInfo admin = CreateToken(c, "admin");
  ASSERT_FALSE(read.token.empty() || admin.token.empty());
  json::value before = OperatorGet("/api/v1/domains/" + d);

  auto got = Expect(200, Api(read.token, "GET", "/api/v1/domains/" + d), "read GET");
  EXPECT_EQ(Str(got, "name"), d);
  EXPECT_EQ(Api(read.token, "GET", "/api/v1/domains").status, 200u);
  EXPECT_EQ(Api(read.token, "GET", "/api/v1/domains/" + d + "/status").status, 200u);

  struct Call {
    std::string method, target, body;
  };
  const std::vector<Call> writes = {
      {"PATCH", "/api/v1/domains/" + d, R"({"filtering": true})"},
      {"POST", "/api/v1/domains", json::serialize(DomainBody("readonly-2.test", c, {SinkDest()}))},
      {"POST", "/api/v1/domains:batch",
       json::serialize(
           json::object{{"domains", json::array{DomainBody("readonly-3.test", c, {SinkDest()})}}})},
      {"POST", "/api/v1/domains/" + d + "/flush", ""},
      {"POST", "/api/v1/domains/" + d + "/hold", ""},
      {"POST", "/api/v1/domains/" + d + "/release", ""},
      {"POST", "/api/v1/domains/" + d + "/delete", ""},
      {"POST", "/api/v1/domains/" + d + "/bounce", ""},
      {"POST", "/api/v1/domains/" + d + "/verify", ""},
      {"PATCH", "/api/v1/customers/" + c, R"({"name": "renamed"})"},
      {"POST", "/api/v1/tokens", R"({"account": ")" + c + R"(", "role": "admin"})"},
      {"DELETE", "/api/v1/tokens/" + admin.id, ""},
      {"DELETE", "/api/v1/domains/" + d, ""},
  };
  for (const auto& w : writes) {
    admin::HttpResult r = Api(read.token, w.method, w.target, w.body);
    EXPECT_EQ(r.status, 403u) << "read token: " << w.method << " " << w.target << " -> "
                              << Describe(r);
  }
  EXPECT_EQ(OperatorGet("/api/v1/domains/" + d), before) << "a read token changed the domain";
  EXPECT_EQ(Api(kOperator, "GET", "/api/v1/domains/readonly-2.test").status, 404u);
  EXPECT_EQ(Api(admin.token, "GET", "/api/v1/domains").status, 200u) << "admin token revoked";

  // The same PATCH with the same account's admin token applies.
  auto patched =
      Expect(200, Api(admin.token, "PATCH", "/api/v1/domains/" + d, R"({"filtering": true})"),
             "admin PATCH");
  EXPECT_EQ(patched["filtering"], json::value(true)) << json::serialize(patched);
}

TEST_F(ProvisioningTest, DomainCreatedOverApiTakesMailWithinOneSecond) {
  ASSERT_TRUE(Start());
  const std::string rcpt = "user@new.test";
  EXPECT_TRUE(ReplyIs(Rcpt(rcpt), "554 5.7.1"));

  auto created = CreateDomain("new.test", "", {SinkDest()});
  EXPECT_EQ(Str(created, "source"), "api");
  EXPECT_EQ(Str(created, "state"), "active");
  auto took = TimeUntilRcpt(rcpt, "250", 5s);
  ASSERT_TRUE(took) << "RCPT to a created domain not accepted within 5 s";
  EXPECT_LT(took->count(), 1500) << "took " << took->count() << " ms";

  std::string id = SendOk(Env(rcpt), SimpleMessage("api-domain-mail"));
  auto m = AwaitDelivery("api-domain-mail", 10s);
  ASSERT_TRUE(m) << "not delivered to the sink";
  EXPECT_EQ(m->rcpt_to, (std::vector<std::string>{rcpt}));
  EXPECT_TRUE(gw_->log().WaitFor(DeliveredRe(id), 5s));

  admin::HttpResult del = Api(kOperator, "DELETE", "/api/v1/domains/new.test");
  EXPECT_EQ(del.status, 204u) << Describe(del);
  auto first = Rcpt(rcpt);
  if (!ReplyIs(first, "554 5.7.1")) {
    auto later = TimeUntilRcpt(rcpt, "554 5.7.1", 5s);
    ADD_FAILURE() << "the first RCPT after the DELETE: " << ReplyIs(first, "554 5.7.1").message()
                  << "; refused "
                  << (later ? "after " + std::to_string(later->count()) + " ms" : "not in 5 s");
  }
  EXPECT_EQ(Api(kOperator, "GET", "/api/v1/domains/new.test").status, 404u);

  // The same right after another write (a create, a few ms earlier): still refused at once.
  CreateDomain("brief.test", "", {SinkDest()});
  ASSERT_TRUE(TimeUntilRcpt("user@brief.test", "250", 1500ms));
  del = Api(kOperator, "DELETE", "/api/v1/domains/brief.test");
  EXPECT_EQ(del.status, 204u) << Describe(del);
  first = Rcpt("user@brief.test");
  if (!ReplyIs(first, "554 5.7.1")) {
    auto later = TimeUntilRcpt("user@brief.test", "554 5.7.1", 5s);
    ADD_FAILURE() << "the first RCPT after a DELETE that followed a create: "
                  << ReplyIs(first, "554 5.7.1").message() << "; refused "
                  << (later ? "after " + std::to_string(later->count()) + " ms" : "not in 5 s");
  }
}

// Hosting providers put many customer domains on one mail server: the domains share one
// connection pool, so the server sees at most max_connections_per_destination connections in
// total (a pool per domain opened one set per domain and overran the server).
TEST_F(ProvisioningTest, DomainsOnOneServerShareItsConnectionLimit) {
  GatewayOptions o = DefaultOptions();
  o.max_connections_per_destination = 2;
  ASSERT_TRUE(Start(o));
  constexpr int kDomains = 24;
  json::array items;
  for (int i = 0; i < kDomains; ++i)
    items.push_back(DomainBody("shared-" + std::to_string(i) + ".test", "", {SinkDest()}));
  auto batch =
      Api(kOperator, "POST", "/api/v1/domains:batch", json::object{{"domains", std::move(items)}});
  ASSERT_EQ(batch.status, 200u) << batch.body;
  std::vector<std::thread> senders;
  for (int t = 0; t < 6; ++t)
    senders.emplace_back([this, t] {
      for (int i = t; i < kDomains; i += 6) {
        SmtpClient c;
        if (!OpenSession(c, port())) continue;
        std::string to = "user@shared-" + std::to_string(i) + ".test";
        c.Command("MAIL FROM:<sender@client.test>");
        c.Command("RCPT TO:<" + to + ">");
        c.Command("DATA");
        c.Command(SimpleMessage("shared-pool-" + std::to_string(i)) + ".");
        c.Command("QUIT");
      }
    });
  for (auto& s : senders) s.join();
  ASSERT_TRUE(sink_.WaitForCount(kDomains, 20s)) << sink_.count() << " delivered";
  EXPECT_LE(sink_.max_open_connections(), 2u);
  EXPECT_GE(sink_.max_open_connections(), 1u);
}

TEST_F(ProvisioningTest, DeletedDomainQueuedMailStillDrains) {
  ASSERT_TRUE(Start());
  ClosedPort reserved;
  uint16_t late_port = reserved.port();
  ASSERT_NE(late_port, 0);
  CreateDomain("drain.test", "", {Dest(late_port)});
  ASSERT_TRUE(TimeUntilRcpt("user@drain.test", "250", 3s));
  std::string id = SendDeferred("user@drain.test", "deleted-drain");
  ASSERT_FALSE(id.empty());

  admin::HttpResult del = Api(kOperator, "DELETE", "/api/v1/domains/drain.test");
  ASSERT_EQ(del.status, 204u) << Describe(del);
  // (Refused at once: DomainCreatedOverApiTakesMailWithinOneSecond.)
  EXPECT_TRUE(TimeUntilRcpt("user@drain.test", "554 5.7.1", 1500ms)) << "deleted, still served";

  // The domain's last destination comes up: the queued message goes there (drain.test has no
  // MX, and nothing else serves it).
  TestSmtpServer late;
  std::string error;
  ASSERT_TRUE(late.Start(late_port, &error)) << error;
  auto m = late.WaitForMessageContaining("deleted-drain", 15s);
  EXPECT_TRUE(m) << "queued mail of a deleted domain did not drain";
  if (m) {
    EXPECT_EQ(m->rcpt_to, (std::vector<std::string>{"user@drain.test"}));
    EXPECT_TRUE(gw_->log().WaitFor(DeliveredRe(id), 5s));
  }
  EXPECT_TRUE(sink_.MessagesContaining("deleted-drain").empty());
  EXPECT_TRUE(
      PollUntil([&] { return !Contains(Api(kOperator, "GET", "/api/v1/queue").body, id); }, 5s));
  late.Stop();
}

TEST_F(ProvisioningTest, Errors) {
  ASSERT_TRUE(Start());
  // 409: provisioned anywhere, names case-insensitive, config-file domains included.
  CreateDomain("dup.test", "", {SinkDest()});
  for (const std::string name : {"dup.test", "DUP.Test", "EXAMPLE.COM", "example.com"}) {
    admin::HttpResult r =
        Api(kOperator, "POST", "/api/v1/domains", DomainBody(name, "", {SinkDest()}));
    EXPECT_EQ(r.status, 409u) << name << ": " << Describe(r);
    EXPECT_TRUE(Parse(r.body).is_object() && Parse(r.body).as_object().contains("error")) << r.body;
  }
  // Config-file domains are read-only.
  EXPECT_EQ(Api(kOperator, "PATCH", "/api/v1/domains/example.com", R"({"filtering": true})").status,
            409u);
  EXPECT_EQ(Api(kOperator, "DELETE", "/api/v1/domains/example.com").status, 409u);
  EXPECT_TRUE(ReplyIs(Rcpt("user@example.com"), "250"));

  // 403: a reseller at plan.max_domains.
  std::string small = CreateReseller("Small MSP", 1);
  std::string sc = CreateCustomer("Small Ltd", small);
  ASSERT_FALSE(small.empty() || sc.empty());
  TokenInfo st = CreateToken(small, "admin");
  CreateDomain("plan-1.test", sc, {SinkDest()}, st.token);
  admin::HttpResult over =
      Api(st.token, "POST", "/api/v1/domains", DomainBody("plan-2.test", sc, {SinkDest()}));
  EXPECT_EQ(over.status, 403u) << Describe(over);
  EXPECT_EQ(Api(kOperator, "GET", "/api/v1/domains/plan-2.test").status, 404u);

  // 412: a stale version, in the body or in If-Match.
  auto v1 = Expect(200, Api(kOperator, "GET", "/api/v1/domains/dup.test"), "GET dup.test");
  int64_t version = Int(v1, "version");
  ASSERT_GE(version, 1) << json::serialize(v1);
  json::object patch{{"filtering", true}, {"version", version}};
  auto v2 = Expect(200, Api(kOperator, "PATCH", "/api/v1/domains/dup.test", patch), "PATCH");
  EXPECT_EQ(Int(v2, "version"), version + 1) << json::serialize(v2);
  json::object stale{{"filtering", false}, {"version", version}};
  admin::HttpResult r412 = Api(kOperator, "PATCH", "/api/v1/domains/dup.test", stale);
  EXPECT_EQ(r412.status, 412u) << Describe(r412);
  for (const std::string& tag : {"\"" + std::to_string(version) + "\"", std::to_string(version)}) {
    admin::HttpResult r = Api(kOperator, "PATCH", "/api/v1/domains/dup.test",
                              R"({"filtering": false})", {{"If-Match", tag}});
    EXPECT_EQ(r.status, 412u) << "If-Match: " << tag << " -> " << Describe(r);
  }
  auto now = Expect(200, Api(kOperator, "GET", "/api/v1/domains/dup.test"), "GET dup.test");
  EXPECT_EQ(now["filtering"], json::value(true)) << "a 412 PATCH applied";
  EXPECT_EQ(Int(now, "version"), version + 1);
  admin::HttpResult fresh =
      Api(kOperator, "PATCH", "/api/v1/domains/dup.test", R"({"filtering": false})",
          {{"If-Match", "\"" + std::to_string(version + 1) + "\""}});
  EXPECT_EQ(fresh.status, 200u) << Describe(fresh);

  // 422 naming the field.
  auto field_of = [](const admin::HttpResult& r) {
    json::value v = Parse(r.body);
    return v.is_object() ? Str(v.as_object(), "field") : std::string();
  };
  json::object bad = DomainBody("bad.test", "", {SinkDest()});
  bad["spam"] = json::object{{"tag_score", "x"}};
  admin::HttpResult r422 = Api(kOperator, "POST", "/api/v1/domains", bad);
  EXPECT_EQ(r422.status, 422u) << Describe(r422);
  EXPECT_EQ(field_of(r422), "spam.tag_score") << r422.body;
  EXPECT_EQ(Api(kOperator, "GET", "/api/v1/domains/bad.test").status, 404u);
  r422 = Api(kOperator, "PATCH", "/api/v1/domains/dup.test", R"({"spam": {"tag_score": "x"}})");
  EXPECT_EQ(r422.status, 422u) << Describe(r422);
  EXPECT_EQ(field_of(r422), "spam.tag_score") << r422.body;
  json::object unknown = DomainBody("unknown-key.test", "", {SinkDest()});
  unknown["colour"] = "red";
  r422 = Api(kOperator, "POST", "/api/v1/domains", unknown);
  EXPECT_EQ(r422.status, 422u) << Describe(r422);
  EXPECT_EQ(field_of(r422), "colour") << r422.body;
  r422 = Api(kOperator, "PATCH", "/api/v1/domains/dup.test", R"({"colour": "red"})");
  EXPECT_EQ(r422.status, 422u) << Describe(r422);
  EXPECT_EQ(field_of(r422), "colour") << r422.body;

  // 400: not JSON.
  admin::HttpResult r400 = Api(kOperator, "POST", "/api/v1/domains", "{\"name\": \"x.test\", ");
  EXPECT_EQ(r400.status, 400u) << Describe(r400);

  // 413: a body over 1 MiB (the answer may come before the body is sent).
  json::object big = DomainBody("big.test", "", {SinkDest()});
  big["pad"] = std::string(1024 * 1024, 'x');
  std::string response =
      RawHttp(gw_->admin_port(), "POST", "/api/v1/domains", json::serialize(big));
  EXPECT_EQ(response.substr(0, 12), "HTTP/1.1 413") << response.substr(0, 500);
  EXPECT_EQ(Api(kOperator, "GET", "/api/v1/domains/big.test").status, 404u);

  // Batch: one result per item, in order.
  json::array items;
  items.emplace_back(DomainBody("batch-1.test", "", {SinkDest()}));
  items.emplace_back(DomainBody("dup.test", "", {SinkDest()}));
  items.emplace_back(DomainBody("batch-3.test", "", {SinkDest()}));
  auto batch = Expect(
      200,
      Api(kOperator, "POST", "/api/v1/domains:batch", json::object{{"domains", std::move(items)}}),
      "batch");
  std::vector<int64_t> statuses;
  std::vector<std::string> names;
  if (auto* results = batch.if_contains("results"); results && results->is_array())
    for (auto& e : results->as_array()) {
      statuses.push_back(Int(e.as_object(), "status"));
      names.push_back(Str(e.as_object(), "name"));
    }
  EXPECT_EQ(statuses, (std::vector<int64_t>{201, 409, 201})) << json::serialize(batch);
  EXPECT_EQ(names, (std::vector<std::string>{"batch-1.test", "dup.test", "batch-3.test"}));
  EXPECT_EQ(Api(kOperator, "GET", "/api/v1/domains/batch-1.test").status, 200u);
  EXPECT_EQ(Api(kOperator, "GET", "/api/v1/domains/batch-3.test").status, 200u);
  EXPECT_TRUE(TimeUntilRcpt("user@batch-3.test", "250", 2s)) << "batch domain takes no mail";
}

TEST_F(ProvisioningTest, RevokedTokenIs401) {
  ASSERT_TRUE(Start());
  std::string c = CreateCustomer("Revoked Ltd", "");
  ASSERT_FALSE(c.empty());
  CreateDomain("revoked.test", c, {SinkDest()});
  TokenInfo t = CreateToken(c, "admin");
  ASSERT_FALSE(t.token.empty());
  EXPECT_EQ(Api(t.token, "GET", "/api/v1/domains/revoked.test").status, 200u);
  admin::HttpResult del = Api(kOperator, "DELETE", "/api/v1/tokens/" + t.id);
  EXPECT_EQ(del.status, 204u) << Describe(del);
  for (const std::string target : {"/api/v1/domains/revoked.test", "/api/v1/domains"}) {
    admin::HttpResult r = Api(t.token, "GET", target);
    EXPECT_EQ(r.status, 401u) << target << ": " << Describe(r);
  }
  EXPECT_EQ(Api(t.token, "PATCH", "/api/v1/domains/revoked.test", R"({"filtering": true})").status,
            401u);
  EXPECT_FALSE(Contains(Api(kOperator, "GET", "/api/v1/tokens").body, t.id));
}

TEST_F(ProvisioningTest, TokensAreStoredHashed) {
  ASSERT_TRUE(Start());
  std::string r = CreateReseller("Hash MSP");
  ASSERT_FALSE(r.empty());
  TokenInfo t = CreateToken(r, "admin");
  ASSERT_EQ(t.token.size(), 46u) << t.token;
  EXPECT_EQ(Api(t.token, "GET", "/api/v1/resellers/" + r).status, 200u);  // last_used_at
  admin::HttpResult list = Api(kOperator, "GET", "/api/v1/tokens");
  EXPECT_EQ(list.status, 200u) << Describe(list);
  EXPECT_TRUE(Contains(list.body, t.id)) << list.body;
  const std::string secret = t.token.substr(3);  // with or without the sw_ prefix
  EXPECT_FALSE(Contains(list.body, secret)) << "token list shows the token";
  admin::HttpResult own = Api(t.token, "GET", "/api/v1/tokens");
  EXPECT_FALSE(Contains(own.body, secret)) << "token list shows the token";

  auto scan = [&](const std::string& when) {
    size_t files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path())) {
      if (!e.is_regular_file()) continue;
      ++files;
      EXPECT_FALSE(Contains(ReadFile(e.path().string()), secret))
          << when << ": the token is in " << e.path();
    }
    EXPECT_GT(files, 3u) << "no store files under " << dir_.path();
  };
  scan("running");
  auto st = gw_->Sigterm(10s);
  ASSERT_TRUE(st && st->exited && st->code == 0) << (st ? st->ToString() : "still running");
  scan("stopped");
}

TEST_F(ProvisioningTest, SurvivesRestartAndKill9) {
  ASSERT_TRUE(Start());
  std::string r = CreateReseller("Persist MSP");
  std::string c = CreateCustomer("Persist Ltd", r);
  ASSERT_FALSE(r.empty() || c.empty());
  CreateDomain("persist-1.test", c, {SinkDest()});
  CreateDomain("persist-2.test", c, {SinkDest()});
  TokenInfo t = CreateToken(r, "admin");
  ASSERT_FALSE(t.token.empty());
  const std::vector<std::string> targets = {"/api/v1/resellers/" + r, "/api/v1/customers/" + c,
                                            "/api/v1/domains/persist-1.test",
                                            "/api/v1/domains/persist-2.test"};
  std::vector<json::value> before;
  for (const auto& target : targets) before.push_back(OperatorGet(target));

  auto st = gw_->Sigterm(10s);
  ASSERT_TRUE(st && st->exited && st->code == 0) << (st ? st->ToString() : "still running");
  ASSERT_TRUE(gw_->Start());
  ASSERT_NE(gw_->admin_port(), 0);
  for (size_t i = 0; i < targets.size(); ++i)
    EXPECT_EQ(OperatorGet(targets[i]), before[i]) << "after restart: " << targets[i];
  admin::HttpResult mine = Api(t.token, "GET", "/api/v1/domains");
  EXPECT_EQ(mine.status, 200u) << "token lost in the restart: " << Describe(mine);
  EXPECT_TRUE(Contains(mine.body, "persist-1.test") && Contains(mine.body, "persist-2.test"))
      << mine.body;
  EXPECT_TRUE(Contains(Api(kOperator, "GET", "/api/v1/tokens").body, t.id));
  SendOk(Env("user@persist-2.test"), SimpleMessage("persist-after-restart"));
  EXPECT_TRUE(AwaitDelivery("persist-after-restart", 10s));

  // kill -9 during a burst of creates: every create that got its 201 is there afterwards.
  const uint16_t admin_port = gw_->admin_port();
  std::mutex mu;
  std::vector<std::string> acked;
  std::atomic<int> n_acked{0};
  std::thread writer([&] {
    admin::HttpClient http("127.0.0.1", admin_port, kOperator, 5s);
    for (int i = 0; i < 50; ++i) {
      std::string name = "burst-" + std::to_string(i) + ".test";
      admin::HttpResult res =
          http.Call("POST", "/api/v1/domains",
                    {json::serialize(DomainBody(name, c, {Dest(sink_.port())})), {}});
      if (!res.ok) return;
      if (res.status == 201) {
        std::lock_guard<std::mutex> lock(mu);
        acked.push_back(name);
        ++n_acked;
      }
    }
  });
  auto deadline = Clock::now() + 10s;
  while (n_acked < 10 && Clock::now() < deadline) std::this_thread::yield();
  gw_->Kill9();
  writer.join();
  ASSERT_GE(acked.size(), 10u) << "fewer than 10 creates answered 201 within 10 s";
  EXPECT_LT(acked.size(), 50u) << "the kill landed after the burst";
  ASSERT_TRUE(gw_->Start());
  std::lock_guard<std::mutex> lock(mu);
  for (const auto& name : acked) {
    admin::HttpResult g = Api(kOperator, "GET", "/api/v1/domains/" + name);
    EXPECT_EQ(g.status, 200u) << name << " got 201 before kill -9, gone after: " << Describe(g);
  }
  EXPECT_TRUE(ReplyIs(Rcpt("user@" + acked.back()), "250"));
  EXPECT_EQ(Api(t.token, "GET", "/api/v1/domains/persist-1.test").status, 200u);
  EXPECT_TRUE(ReplyIs(Rcpt("user@persist-1.test"), "250"));
}

TEST_F(ProvisioningTest, RateLimitGives429WithRetryAfter) {
  ASSERT_TRUE(Start());
  std::string r = CreateReseller("Busy MSP");
  ASSERT_FALSE(r.empty());
  TokenInfo t = CreateToken(r, "read");
  ASSERT_FALSE(t.token.empty());
  // admin.rate_limit 50/s, rate_burst 200 (the defaults): four clients at once overrun it even
  // on a slow (sanitizer) build.
  const uint16_t admin_port = gw_->admin_port();
  std::atomic<int> ok{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::optional<admin::HttpResult> limited;
  std::vector<std::string> problems;
  std::vector<std::thread> clients;
  for (int k = 0; k < 4; ++k)
    clients.emplace_back([&] {
      admin::HttpClient http("127.0.0.1", admin_port, t.token, 10s);
      for (int i = 0; i < 500 && !stop; ++i) {
        admin::HttpResult res = http.Call("GET", "/api/v1/resellers/" + r);
        std::lock_guard<std::mutex> lock(mu);
        if (res.ok && res.status == 200) {
          ++ok;
        } else if (res.ok && res.status == 429) {
          if (!limited) limited = res;
          stop = true;
        } else {
          problems.push_back(Describe(res));
          stop = true;
        }
      }
    });
  for (auto& c : clients) c.join();
  EXPECT_TRUE(problems.empty()) << problems.front();
  ASSERT_TRUE(limited) << ok << " calls in a row answered 200";
  EXPECT_GE(ok, 150) << "limited long before the burst was used";
  std::string retry = limited->Header("Retry-After");
  EXPECT_TRUE(std::regex_match(retry, std::regex("[1-9][0-9]*"))) << "Retry-After: " << retry;
  // Per token: the operator is not limited by the reseller's calls.
  EXPECT_EQ(Api(kOperator, "GET", "/api/v1/resellers/" + r).status, 200u);
}

}  // namespace
}  // namespace sw::it
