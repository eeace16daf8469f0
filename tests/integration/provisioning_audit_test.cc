// Owns the provisioning API's audit log, usage records and contacts end to end, and filtering
// switched on over the API. Fails with the gateway's log dumped.
#include "tests/integration/provisioning_fixture.h"

namespace sw::it {
namespace {

TEST_F(ProvisioningTest, Audit) {
  ASSERT_TRUE(Start());
  std::string c = CreateCustomer("Audited Ltd", "");
  ASSERT_FALSE(c.empty());
  const std::string d = "audited.test";
  CreateDomain(d, c, {SinkDest()});
  TokenInfo t = CreateToken(c, "admin");
  ASSERT_FALSE(t.token.empty());
  admin::HttpResult patch =
      Api(t.token, "PATCH", "/api/v1/domains/" + d, R"({"spam": {"tag_score": 7}})");
  ASSERT_EQ(patch.status, 200u) << Describe(patch);

  for (const std::string& reader : {kOperator, t.token}) {
    auto audit = Expect(200, Api(reader, "GET", "/api/v1/audit?limit=1000"), "GET audit");
    const json::value* entries = audit.if_contains("entries");
    ASSERT_TRUE(entries && entries->is_array()) << json::serialize(audit);
    const json::object* update = nullptr;
    bool created = false;
    for (const auto& e : entries->as_array()) {
      if (!e.is_object()) continue;
      const auto& o = e.as_object();
      if (Str(o, "object") != d) continue;
      if (Str(o, "action") == "domain.update") update = &o;
      if (Str(o, "action") == "domain.create") created = true;
    }
    EXPECT_TRUE(created) << "no domain.create entry: " << json::serialize(audit);
    ASSERT_TRUE(update) << "no domain.update entry: " << json::serialize(audit);
    const json::value* actor = update->if_contains("actor");
    ASSERT_TRUE(actor && actor->is_object()) << json::serialize(*update);
    EXPECT_EQ(Str(actor->as_object(), "token"), t.id) << json::serialize(*update);
    EXPECT_EQ(Str(actor->as_object(), "account"), c) << json::serialize(*update);
    EXPECT_EQ(Str(*update, "client_ip"), "127.0.0.1") << json::serialize(*update);
    EXPECT_FALSE(Str(*update, "at").empty()) << json::serialize(*update);
    EXPECT_GT(Int(*update, "seq"), 0) << json::serialize(*update);
    const json::value* changes = update->if_contains("changes");
    ASSERT_TRUE(changes) << json::serialize(*update);
    EXPECT_TRUE(Contains(json::serialize(*changes), "tag_score")) << json::serialize(*update);
  }
}

// Newest first: `order=newest` pages down with `before`, seqs strictly falling, and the pages
// together are the oldest-first log reversed; bad orders and cursors are refused by name.
TEST_F(ProvisioningTest, AuditNewestFirstPagesBackwards) {
  ASSERT_TRUE(Start());
  for (int i = 0; i < 5; ++i)
    ASSERT_FALSE(CreateCustomer("Paged " + std::to_string(i), "").empty());
  auto all = Expect(200, Api(kOperator, "GET", "/api/v1/audit?limit=1000"), "oldest first");
  std::vector<int64_t> oldest;
  for (const auto& e : all["entries"].as_array()) oldest.push_back(Int(e.as_object(), "seq"));
  ASSERT_GE(oldest.size(), 5u);
  std::vector<int64_t> newest;
  std::string before;
  for (int pages = 0; pages < 100; ++pages) {
    std::string q =
        "/api/v1/audit?order=newest&limit=2" + (before.empty() ? "" : "&before=" + before);
    auto page = Expect(200, Api(kOperator, "GET", q), q);
    for (const auto& e : page["entries"].as_array()) newest.push_back(Int(e.as_object(), "seq"));
    if (page["next"].is_null()) break;
    before = std::to_string(page["next"].as_int64());
  }
  std::vector<int64_t> reversed(oldest.rbegin(), oldest.rend());
  EXPECT_EQ(newest, reversed);
  for (const auto& [query, field] :
       std::vector<std::pair<std::string, std::string>>{{"order=sideways", "order"},
                                                        {"order=newest&after=3", "after"},
                                                        {"before=3", "before"},
                                                        {"order=newest&before=x", "before"}}) {
    admin::HttpResult r = Api(kOperator, "GET", "/api/v1/audit?" + query);
    EXPECT_TRUE(r.status == 422u || r.status == 400u) << query << ": " << Describe(r);
    EXPECT_TRUE(Contains(r.body, "\"field\":\"" + field + "\"")) << query << ": " << r.body;
  }
}

// "YYYY-MM-DD" (UTC) of now minus `days_ago` days.
std::string UtcDay(int days_ago) {
  std::time_t t = std::time(nullptr) - static_cast<std::time_t>(days_ago) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

TEST_F(ProvisioningTest, UsageValidationAndCsv) {
  ASSERT_TRUE(Start());
  std::string c = CreateCustomer("Usage Ltd", "");
  ASSERT_FALSE(c.empty());
  const std::string d = "usage.test";
  CreateDomain(d, c, {SinkDest()});
  TokenInfo t = CreateToken(c, "read");
  ASSERT_FALSE(t.token.empty());

  // Bad dates, from after to, over 400 days (2025-01-01 + 399 days = 2026-02-04), bad format.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"from=2026-13-01", "from"},
      {"from=yesterday", "from"},
      {"from=2026-1-01", "from"},
      {"to=2026-02-30", "to"},
      {"from=2026-03-02&to=2026-03-01", "from"},
      {"from=2025-01-01&to=2026-02-05", "from"},
      {"format=xml", "format"},
      {"granularity=minute", "granularity"},
      {"granularity=hour&from=2026-01-01&to=2026-02-01", "from"},  // 32 days
      {"domain=usage.test&domains=usage.test", "domains"},
  };
  for (const auto& [query, field] : bad) {
    admin::HttpResult r = Api(kOperator, "GET", "/api/v1/usage?" + query);
    EXPECT_EQ(r.status, 422u) << query << ": " << Describe(r);
    EXPECT_TRUE(Contains(r.body, "\"field\":\"" + field + "\"")) << query << ": " << r.body;
  }
  EXPECT_EQ(Api(kOperator, "GET", "/api/v1/usage?from=2025-01-01&to=2026-02-04").status, 200u);

  // Default range: the last 30 days up to today (UTC); every domain in scope is listed.
  auto def = Expect(200, Api(kOperator, "GET", "/api/v1/usage"), "usage default");
  EXPECT_EQ(Str(def, "to"), UtcDay(0)) << json::serialize(def);
  EXPECT_EQ(Str(def, "from"), UtcDay(29)) << json::serialize(def);
  EXPECT_TRUE(Contains(json::serialize(def), "\"domain\":\"" + d + "\"")) << json::serialize(def);
  EXPECT_TRUE(def.contains("resellers")) << json::serialize(def);
  EXPECT_TRUE(Contains(json::serialize(def["resellers"]), "\"reseller\":\"-\""))
      << json::serialize(def);
  auto mine = Expect(200, Api(t.token, "GET", "/api/v1/usage"), "customer usage");
  EXPECT_FALSE(mine.contains("resellers")) << json::serialize(mine);
  EXPECT_TRUE(Contains(json::serialize(mine), d)) << json::serialize(mine);

  // CSV of a range without traffic: the header line only, CRLF, as an attachment.
  const std::string empty = "/api/v1/usage?from=2020-01-01&to=2020-01-31";
  admin::HttpResult csv = Api(t.token, "GET", empty + "&format=csv");
  ASSERT_EQ(csv.status, 200u) << Describe(csv);
  EXPECT_EQ(csv.Header("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.Header("Content-Disposition"),
            "attachment; filename=\"usage-2020-01-01-2020-01-31.csv\"");
  EXPECT_EQ(csv.body,
            "day,domain,accepted,delivered,deferred,rejected_spam,rejected_virus,bytes,"
            "filtering\r\n");
  auto js = Expect(200, Api(t.token, "GET", empty), "usage json, empty range");
  EXPECT_EQ(Str(js, "from"), "2020-01-01");
  EXPECT_EQ(Str(js, "to"), "2020-01-31");
  const json::value* domains = js.if_contains("domains");
  ASSERT_TRUE(domains && domains->is_array() && domains->as_array().size() == 1u)
      << json::serialize(js);
  const json::object& row = domains->as_array()[0].as_object();
  EXPECT_EQ(Str(row, "domain"), d);
  EXPECT_EQ(row.at("days"), json::array()) << json::serialize(row);
  EXPECT_EQ(Int(row.at("total").as_object(), "accepted"), 0) << json::serialize(row);

  // Alert history and the status's history are there (empty on a fresh gateway).
  auto alerts = Expect(200, Api(t.token, "GET", "/api/v1/alerts?domain=" + d), "alerts");
  EXPECT_EQ(alerts["alerts"], json::array()) << json::serialize(alerts);
  EXPECT_EQ(alerts["next"], json::value(nullptr)) << json::serialize(alerts);
  EXPECT_EQ(Api(t.token, "GET", "/api/v1/alerts?limit=0").status, 400u);
  EXPECT_EQ(Api(t.token, "GET", "/api/v1/alerts?domain=nowhere.test").status, 404u);
  auto status = Expect(200, Api(t.token, "GET", "/api/v1/domains/" + d + "/status"), "status");
  EXPECT_TRUE(status.contains("history") && status["history"].is_array())
      << json::serialize(status);
  EXPECT_TRUE(status.contains("alerts") && status["alerts"].is_array()) << json::serialize(status);
  EXPECT_TRUE(status.contains("queue")) << json::serialize(status);
}

TEST_F(ProvisioningTest, ContactsTestValidation) {
  ASSERT_TRUE(Start());
  std::string c = CreateCustomer("Quiet Ltd", "");
  ASSERT_FALSE(c.empty());
  TokenInfo read = CreateToken(c, "read");
  ASSERT_FALSE(read.token.empty());
  const std::string target = "/api/v1/customers/" + c + "/contacts/test";

  admin::HttpResult none = Api(kOperator, "POST", target);
  EXPECT_EQ(none.status, 422u) << Describe(none);
  EXPECT_TRUE(Contains(none.body, "\"field\":\"contacts\"")) << none.body;
  EXPECT_EQ(Api(read.token, "POST", target).status, 403u);
  EXPECT_EQ(Api(kOperator, "POST", "/api/v1/customers/c_0000000000000000/contacts/test").status,
            404u);
  EXPECT_EQ(Api(kOperator, "GET", target).status, 405u);

  admin::HttpResult patch = Api(kOperator, "PATCH", "/api/v1/customers/" + c,
                                R"({"contacts": [{"name": "ops", "email": "ops@quiet.test"}]})");
  ASSERT_EQ(patch.status, 200u) << Describe(patch);
  for (const std::string body : {R"({"contact": 1})", R"({"contact": -1})", R"({"contact": "0"})",
                                 R"({"contact": 0, "x": 1})"}) {
    admin::HttpResult r = Api(kOperator, "POST", target, body);
    EXPECT_EQ(r.status, 422u) << body << ": " << Describe(r);
    std::string field = Contains(body, "\"x\"") ? "x" : "contact";
    EXPECT_TRUE(Contains(r.body, "\"field\":\"" + field + "\"")) << body << ": " << r.body;
  }
  EXPECT_EQ(Api(kOperator, "POST", target, "not json").status, 400u);
}

// ---------------------------------------------------------------------------------------------
// Filtering switched over the API: a real rspamd and ClamAV database, started once for this
// suite only (SetUpTestSuite) so the other tests of this binary do not pay for the scanners.

class ProvisioningFilterTest : public ProvisioningTest {
 protected:
  static void SetUpTestSuite() {
    scanners_ = new ScannerEnvironment;
    scanners_->SetUp();
  }
  static void TearDownTestSuite() {
    if (!scanners_) return;
    scanners_->TearDown();
    delete scanners_;
    scanners_ = nullptr;
  }
  void SetUp() override {
    ProvisioningTest::SetUp();
    ASSERT_TRUE(scanners_ && scanners_->ready()) << "scanners did not start";
  }
  void TearDown() override {
    if (HasFailure() && scanners_ && scanners_->ready())
      std::cerr << scanners_->rspamd().Logs() << "\n";
    ProvisioningTest::TearDown();
  }
  GatewayOptions FilterOptions() {
    GatewayOptions o = DefaultOptions();  // no domain filters
    o.filters_yaml = "filters:\n  rspamd: {url: \"" + scanners_->rspamd().url() +
                     "\", timeout: 10s, on_failure: tempfail}\n  clamav: {database: \"" +
                     scanners_->db() + "\", on_failure: tempfail, temp_dir: \"" + dir_.path() +
                     "\", reload_interval: 1s, threads: 2}\n";
    return o;
  }
  // The reply to the end of DATA for one GTUBE message to `to`.
  std::optional<Reply> SendGtube(const std::string& to, int n) {
    SendResult r = SendMessage(port(), Env(to),
                               SimpleMessage("gtube-" + std::to_string(n), GtubeLine() + "\r\n"));
    if (r.replies.empty()) return std::nullopt;
    return r.replies.back();
  }
  // Sends GTUBE until the end-of-data reply starts with `prefix`; the time it took.
  std::optional<Millis> TimeUntilGtube(const std::string& to, const std::string& prefix,
                                       Millis timeout) {
    auto t0 = Clock::now();
    bool ok = PollUntil(
        [&] {
          auto r = SendGtube(to, ++sent_);
          return r && r->last().rfind(prefix, 0) == 0;
        },
        timeout);
    if (!ok) return std::nullopt;
    return std::chrono::duration_cast<Millis>(Clock::now() - t0);
  }

  static inline ScannerEnvironment* scanners_ = nullptr;
  int sent_ = 0;
};

TEST_F(ProvisioningFilterTest, FilteringSwitchedOnOverApiScans) {
  ASSERT_TRUE(Start(FilterOptions()));
  const std::string to = "user@premium.test";
  json::object body = DomainBody("premium.test", "", {SinkDest()});
  body["filtering"] = false;
  auto created = Expect(201, Api(kOperator, "POST", "/api/v1/domains", body), "create");
  EXPECT_EQ(created["filtering"], json::value(false));
  ASSERT_TRUE(TimeUntilRcpt(to, "250", 3s));
  EXPECT_TRUE(ReplyIs(SendGtube(to, ++sent_), "250")) << "GTUBE refused without filtering";

  // The first Premium domain on a gateway also starts the scanners (the ClamAV supervisor loads
  // the database: seconds with a full signature set), so that first switch is not timed.
  admin::HttpResult on =
      Api(kOperator, "PATCH", "/api/v1/domains/premium.test", R"({"filtering": true})");
  ASSERT_EQ(on.status, 200u) << Describe(on);
  auto took = TimeUntilGtube(to, "550 5.7.1", 30s);
  ASSERT_TRUE(took) << "GTUBE still accepted 30 s after filtering was first switched on";
  EXPECT_TRUE(gw_->log().Find("event=scanned\\b.*\\bverdict=reject\\b"));

  // With the scanners running, a switch is live on the SMTP path within 1 s (SPEC section 10;
  // checked with a margin), either way.
  for (bool filtering : {false, true}) {
    admin::HttpResult r = Api(kOperator, "PATCH", "/api/v1/domains/premium.test",
                              filtering ? R"({"filtering": true})" : R"({"filtering": false})");
    ASSERT_EQ(r.status, 200u) << Describe(r);
    took = TimeUntilGtube(to, filtering ? "550 5.7.1" : "250", 5s);
    ASSERT_TRUE(took) << "filtering " << filtering << " not live 5 s after the PATCH";
    EXPECT_LT(took->count(), 1500) << "filtering " << filtering << ": " << took->count() << " ms";
  }
}

}  // namespace
}  // namespace sw::it
