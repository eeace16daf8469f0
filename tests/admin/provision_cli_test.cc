// Tests the `domains` and `tokens` command lines: the request each builds (pure), usage errors,
// and the output for canned API answers from a fake server. Fails by gtest assertion.
#include "admin/provision_cli.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace sw::admin {
namespace {

using Args = std::vector<std::string>;

// Parses `domains -c F args...` (or tokens), expecting success.
ProvisionArgs Ok(std::string_view group, Args args) {
  args.insert(args.begin(), {"-c", "sw.yaml"});
  ProvisionArgs a;
  std::string problem = ParseProvisionArgs(group, args, &a);
  EXPECT_EQ(problem, "") << ::testing::PrintToString(args);
  return a;
}

// The usage problem of `group -c F args...` ("" when it parsed, which fails the test).
std::string Bad(std::string_view group, Args args) {
  args.insert(args.begin(), {"-c", "sw.yaml"});
  ProvisionArgs a;
  std::string problem = ParseProvisionArgs(group, args, &a);
  EXPECT_NE(problem, "") << "accepted: " << ::testing::PrintToString(args) << " -> "
                         << a.request.method << " " << a.request.target << " " << a.request.body;
  return problem;
}

void ExpectRequest(const ProvisionArgs& a, const std::string& method, const std::string& target,
                   const std::string& body) {
  EXPECT_EQ(a.request.method, method);
  EXPECT_EQ(a.request.target, target);
  EXPECT_EQ(a.request.body, body);
}

TEST(ProvisionCliTest, DomainsAddBuildsTheBodyWithOnlyTheGivenKeys) {
  ExpectRequest(Ok("domains", {"add", "x.test", "--dest", "[127.0.0.1]:25", "--filtering", "on",
                               "--tag-score", "5"}),
                "POST", "/api/v1/domains",
                R"({"name":"x.test","destinations":["[127.0.0.1]:25"],"filtering":true,)"
                R"("spam":{"tag_score":5}})");
  ExpectRequest(
      Ok("domains", {"add", "y.test", "--dest", "mx1.y.test", "--dest", "[192.0.2.1]:2525"}),
      "POST", "/api/v1/domains",
      R"({"name":"y.test","destinations":["mx1.y.test","[192.0.2.1]:2525"]})");
}

TEST(ProvisionCliTest, DomainsAddTakesEveryOptionInAnyOrder) {
  ProvisionArgs a = Ok(
      "domains", {"--tls", "verify", "add", "--reject-score", "12.5", "z.test", "--customer",
                  "c_0123456789abcdef", "--filtering", "off", "--dest", "mx.z.test", "--tag-score",
                  "-2", "--subject-tag", "[SPAM]", "--virus", "reject", "--json"});
  EXPECT_EQ(a.command, "add");
  EXPECT_EQ(a.object, "z.test");
  EXPECT_TRUE(a.json);
  EXPECT_EQ(a.config_path, "sw.yaml");
  ExpectRequest(a, "POST", "/api/v1/domains",
                R"({"name":"z.test","customer":"c_0123456789abcdef","destinations":["mx.z.test"],)"
                R"("filtering":false,"spam":{"tag_score":-2,"reject_score":1.25E1,)"
                R"("subject_tag":"[SPAM]"},"virus":"reject","tls":"verify"})");
}

TEST(ProvisionCliTest, DomainsSetPatchesOnlyTheGivenKeys) {
  ExpectRequest(Ok("domains", {"set", "x.test", "--filtering", "on"}), "PATCH",
                "/api/v1/domains/x.test", R"({"filtering":true})");
  ExpectRequest(Ok("domains", {"set", "x.test", "--reject-score", "20", "--version", "3"}), "PATCH",
                "/api/v1/domains/x.test", R"({"spam":{"reject_score":20},"version":3})");
  ExpectRequest(Ok("domains", {"set", "x.test", "--dest", "[10.0.0.1]:25", "--tls", "required"}),
                "PATCH", "/api/v1/domains/x.test",
                R"({"destinations":["[10.0.0.1]:25"],"tls":"required"})");
}

TEST(ProvisionCliTest, DomainsListShowDelete) {
  ExpectRequest(Ok("domains", {"list"}), "GET", "/api/v1/domains", "");
  ExpectRequest(Ok("domains", {"list", "--search", "shop ex"}), "GET",
                "/api/v1/domains?search=shop%20ex", "");
  ExpectRequest(Ok("domains", {"show", "Shop.Example", "--json"}), "GET",
                "/api/v1/domains/Shop.Example", "");
  ExpectRequest(Ok("domains", {"delete", "a/b.test"}), "DELETE", "/api/v1/domains/a%2Fb.test", "");
  EXPECT_EQ(Ok("domains", {"delete", "x.test"}).object, "x.test");
}

TEST(ProvisionCliTest, Tokens) {
  ExpectRequest(
      Ok("tokens", {"create", "--account", "r_0011223344556677", "--role", "read", "--name", "ci"}),
      "POST", "/api/v1/tokens", R"({"account":"r_0011223344556677","role":"read","name":"ci"})");
  ExpectRequest(Ok("tokens", {"create", "--role", "admin", "--account", "operator"}), "POST",
                "/api/v1/tokens", R"({"account":"operator","role":"admin"})");
  ExpectRequest(Ok("tokens", {"list", "--json"}), "GET", "/api/v1/tokens", "");
  ExpectRequest(Ok("tokens", {"revoke", "t_abc"}), "DELETE", "/api/v1/tokens/t_abc", "");
}

TEST(ProvisionCliTest, GlobalOptions) {
  ProvisionArgs a;
  ASSERT_EQ(
      ParseProvisionArgs("domains", {"--admin", "127.0.0.1:9000", "--token", "sw_x", "list"}, &a),
      "");
  EXPECT_EQ(a.admin, "127.0.0.1:9000");
  EXPECT_EQ(a.token, "sw_x");
  EXPECT_EQ(a.config_path, "");
  ASSERT_EQ(ParseProvisionArgs("tokens", {"--help"}, &a), "");
  EXPECT_TRUE(a.help);
  EXPECT_NE(ParseProvisionArgs("domains", {"list"}, &a), "") << "-c or --admin is required";
  EXPECT_NE(ParseProvisionArgs("widgets", {"-c", "f", "list"}, &a), "");
}

TEST(ProvisionCliTest, BadOptionsAreUsageErrors) {
  Bad("domains", {});
  Bad("domains", {"frobnicate"});
  Bad("domains", {"add", "x.test"});                    // no --dest
  Bad("domains", {"add", "--dest", "[127.0.0.1]:25"});  // no NAME
  Bad("domains", {"add", "x.test", "y.test", "--dest", "a"});
  Bad("domains", {"add", "x.test", "--dest"});
  Bad("domains", {"add", "x.test", "--dest", ""});
  Bad("domains", {"add", "x.test", "--dest", "a", "--filtering", "yes"});
  Bad("domains", {"add", "x.test", "--dest", "a", "--filtering", "on", "--filtering", "off"});
  for (const char* score : {"five", "5x", "", "-", "1.", ".5", "1e3", "0x10", " 5", "nan", "1.2.3"})
    Bad("domains", {"add", "x.test", "--dest", "a", "--tag-score", score});
  Bad("domains", {"add", "x.test", "--dest", "a", "--tls", "always"});
  Bad("domains", {"add", "x.test", "--dest", "a", "--version", "2"});  // set only
  Bad("domains", {"add", "x.test", "--dest", "a", "--bogus"});
  Bad("domains", {"set", "x.test"});  // nothing to change
  Bad("domains", {"set", "x.test", "--filtering", "on", "--version", "-1"});
  Bad("domains", {"set", "x.test", "--filtering", "on", "--version", "two"});
  Bad("domains", {"list", "extra"});
  Bad("domains", {"list", "--dest", "a"});
  Bad("domains", {"show"});
  Bad("domains", {"delete", "x.test", "--json"});
  Bad("domains", {"create", "--account", "a", "--role", "read"});  // a tokens command
  Bad("tokens", {"create", "--role", "admin"});                    // no --account
  Bad("tokens", {"create", "--account", "operator"});              // no --role
  Bad("tokens", {"create", "--account", "operator", "--role", "owner"});
  Bad("tokens", {"revoke"});
  Bad("tokens", {"revoke", "t_1", "t_2"});
  Bad("tokens", {"list", "--search", "x"});
  Bad("tokens", {"add", "x.test", "--dest", "a"});  // a domains command
  Bad("tokens", {"list", "--token"});
}

TEST(ProvisionCliTest, UsageErrorsExit2WithTheUsageText) {
  std::ostringstream out, err;
  EXPECT_EQ(ProvisionCommand("domains", {"-c", "/nonexistent.yaml", "add", "x.test"}, out, err), 2);
  EXPECT_NE(err.str().find("add needs at least one --dest"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("usage: spamweeder domains"), std::string::npos) << err.str();
  EXPECT_EQ(out.str(), "");

  std::ostringstream out2, err2;
  EXPECT_EQ(ProvisionCommand("tokens", {"--help"}, out2, err2), 0);
  EXPECT_NE(out2.str().find("usage: spamweeder tokens"), std::string::npos) << out2.str();

  std::ostringstream out3, err3;
  EXPECT_EQ(ProvisionCommand("tokens", {"-c", "/nonexistent.yaml", "list"}, out3, err3), 2)
      << "a config that does not load is exit 2";
  EXPECT_NE(err3.str(), "");
}

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

// A one-thread HTTP server on loopback answering "METHOD TARGET" from a table (404 otherwise)
// and recording each request as "METHOD TARGET BODY [AUTHORIZATION]".
class FakeApi {
 public:
  struct Answer {
    unsigned status;
    std::string body;
  };
  explicit FakeApi(std::map<std::string, Answer> answers)
      : answers_(std::move(answers)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeApi() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);  // wakes accept()
    thread_.join();
  }
  std::string admin() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      tcp::socket s(io_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stop_) return;
      boost::beast::flat_buffer buf;
      for (;;) {
        http::request<http::string_body> req;
        http::read(s, buf, req, ec);
        if (ec) break;
        std::string key = std::string(req.method_string()) + " " + std::string(req.target());
        {
          std::lock_guard lock(mu_);
          requests_.push_back(key + " " + req.body() + " [" +
                              std::string(req[http::field::authorization]) + "]");
        }
        auto it = answers_.find(key);
        Answer a = it == answers_.end() ? Answer{404, R"({"error":"not found"})"} : it->second;
        http::response<http::string_body> res{static_cast<http::status>(a.status), 11};
        res.body() = a.body;
        if (a.status == 429) res.set(http::field::retry_after, "1");
        res.keep_alive(true);
        res.prepare_payload();
        http::write(s, res, ec);
        if (ec) break;
      }
    }
  }

  std::map<std::string, Answer> answers_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> requests_;
};

struct Result {
  int code;
  std::string out, err;
};

Result Invoke(std::string_view group, const FakeApi& api, Args args) {
  args.insert(args.begin(), {"--admin", api.admin(), "--token", "tok"});
  std::ostringstream out, err;
  int code = ProvisionCommand(group, args, out, err);
  return {code, out.str(), err.str()};
}

TEST(ProvisionCliOutputTest, ListFollowsNextAndPrintsATable) {
  FakeApi api({{"GET /api/v1/domains?search=x",
                {200, R"({"domains":[{"name":"a.x","state":"active","source":"config",)"
                      R"("customer":null,"filtering":false,"tls":"opportunistic",)"
                      R"("destinations":["[192.0.2.1]:25","mx.a.x"]}],"next":"a.x"})"}},
               {"GET /api/v1/domains?search=x&after=a.x",
                {200, R"({"domains":[{"name":"b.x","state":"pending","source":"api",)"
                      R"("customer":"c_1","filtering":true,"tls":"verify",)"
                      R"("destinations":["mx.b.x"]}],"next":null})"}}});
  Result r = Invoke("domains", api, {"list", "--search", "x"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME  STATE    SOURCE  CUSTOMER  FILTERING  TLS            DESTINATIONS\n"
            "a.x   active   config  -         off        opportunistic  [192.0.2.1]:25, mx.a.x\n"
            "b.x   pending  api     c_1       on         verify         mx.b.x\n"
            "2 domains\n");
  r = Invoke("domains", api, {"list", "--search", "x", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  boost::json::value doc = boost::json::parse(r.out);
  EXPECT_EQ(doc.at("domains").as_array().size(), 2u) << r.out;
  EXPECT_EQ(api.requests().at(0), "GET /api/v1/domains?search=x  [Bearer tok]");
}

TEST(ProvisionCliOutputTest, ApiErrorsExit1WithStatusErrorAndField) {
  FakeApi api({{"POST /api/v1/domains",
                {422, R"({"error":"must be below reject_score","field":"spam.tag_score"})"}},
               {"DELETE /api/v1/domains/example.com", {409, R"({"error":"from the config"})"}},
               {"GET /api/v1/tokens", {500, "oops\n"}}});
  Result r = Invoke("domains", api, {"add", "x.test", "--dest", "mx.x.test", "--tag-score", "50"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "spamweeder: 422: must be below reject_score (field: spam.tag_score)\n");
  EXPECT_EQ(r.out, "");
  r = Invoke("domains", api, {"delete", "example.com"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "spamweeder: 409: from the config\n");
  r = Invoke("tokens", api, {"list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "spamweeder: 500: oops\n");
  r = Invoke("domains", api, {"show", "nowhere.test"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "spamweeder: 404: not found\n");
}

TEST(ProvisionCliOutputTest, WritesShowTheResult) {
  FakeApi api(
      {{"PATCH /api/v1/domains/x.test",
        {200,
         R"({"name":"x.test","customer":null,"source":"api","state":"active",)"
         R"("destinations":["[127.0.0.1]:25"],"filtering":true,)"
         R"("spam":{"tag_score":5.5,"reject_score":15,"subject_tag":""},"virus":"reject",)"
         R"("tls":"opportunistic","recipients":[],"recipient_verification":"off",)"
         R"("version":2,"created_at":"2026-11-30T05:00:00Z","updated_at":"2026-11-30T05:01:00Z"})"}},
       {"DELETE /api/v1/domains/x.test", {204, ""}},
       {"POST /api/v1/tokens",
        {201, R"({"id":"t_1","token":"sw_SECRET","account":"operator","role":"read",)"
              R"("name":"ci","created_at":"2026-11-30T05:00:00Z"})"}},
       {"DELETE /api/v1/tokens/t_1", {204, ""}}});
  Result r = Invoke("domains", api, {"set", "x.test", "--filtering", "on", "--version", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Filtering:              on\n"), std::string::npos) << r.out;
  EXPECT_NE(
      r.out.find("Spam:                   tag_score 5.5, reject_score 15, subject_tag \"\"\n"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Customer:               -\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Version:                2\n"), std::string::npos) << r.out;
  EXPECT_EQ(api.requests().back(),
            R"(PATCH /api/v1/domains/x.test {"filtering":true,"version":1} [Bearer tok])");
  r = Invoke("domains", api, {"delete", "x.test"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "x.test: deleted\n");
  r = Invoke("tokens", api, {"create", "--account", "operator", "--role", "read", "--name", "ci"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\n    sw_SECRET\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("t_1"), std::string::npos) << r.out;
  r = Invoke("tokens", api, {"revoke", "t_1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "t_1: revoked\n");
}

TEST(ProvisionCliOutputTest, TokenFromTheEnvironmentAndRetryAfter429) {
  FakeApi api({{"GET /api/v1/tokens", {429, R"({"error":"slow down"})"}}});
  setenv("SW_TOKEN", "from-env", 1);
  std::ostringstream out, err;
  int code = ProvisionCommand("tokens", {"--admin", api.admin(), "list"}, out, err);
  unsetenv("SW_TOKEN");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(err.str(), "spamweeder: 429: slow down\nretry after 1 s\n");
  auto reqs = api.requests();
  ASSERT_EQ(reqs.size(), 3u) << "three tries";
  EXPECT_EQ(reqs[0], "GET /api/v1/tokens  [Bearer from-env]");
}

TEST(ProvisionCliOutputTest, UnreachableDaemonIsExit1NoTokenIsExit2) {
  std::string port;
  {
    FakeApi gone({});
    port = gone.admin();
  }
  std::ostringstream out, err;
  EXPECT_EQ(ProvisionCommand("domains", {"--admin", port, "--token", "t", "list"}, out, err), 1);
  EXPECT_NE(err.str().find("spamweeder: daemon unreachable"), std::string::npos) << err.str();
  unsetenv("SW_TOKEN");
  std::ostringstream out2, err2;
  EXPECT_EQ(ProvisionCommand("domains", {"--admin", port, "list"}, out2, err2), 2);
  EXPECT_NE(err2.str().find("no token"), std::string::npos) << err2.str();
}

}  // namespace
}  // namespace sw::admin
