// The `spamweeder domains` and `spamweeder tokens` commands against the real daemon: add, list,
// set, delete; API errors as exit 1; tokens created, listed, used, revoked. Fails with the log.
#include <boost/json.hpp>
#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include "tests/integration/harness/gateway_process.h"

namespace sw::it {
namespace {

namespace json = boost::json;

struct CliRun {
  int code = -1;       // exit status; -1 when it did not exit normally
  std::string output;  // stdout and stderr together
};

class ProvisionCliTest : public GatewayTest {
 protected:
  void SetUp() override {
    unsetenv("SW_TOKEN");  // the config's operator token, unless a test gives another
    GatewayTest::SetUp();
  }
  ::testing::AssertionResult Start() {
    auto r = StartGateway();
    if (r && gw_->admin_port() == 0)
      return ::testing::AssertionFailure() << "no `event=listening service=admin` logged";
    return r;
  }
  std::string Admin() const { return "127.0.0.1:" + std::to_string(gw_->admin_port()); }
  CliRun Exec(const std::vector<std::string>& argv) {
    std::string out = dir_.File("cli-" + std::to_string(++runs_) + ".out");
    std::string error;
    auto st = Process::Run(argv, out, 30s, &error);
    CliRun r;
    r.output = ReadFile(out);
    EXPECT_TRUE(st) << "cli did not finish: " << error;
    if (st && st->exited) r.code = st->code;
    return r;
  }
  // `spamweeder GROUP -c CONFIG --admin 127.0.0.1:PORT args...` (plus --token when given).
  CliRun Cli(const std::string& group, const std::vector<std::string>& args,
             const std::string& token = "") {
    std::vector<std::string> argv = {SW_BINARY,          group,     "-c",
                                     gw_->config_path(), "--admin", Admin()};
    if (!token.empty()) argv.insert(argv.end(), {"--token", token});
    argv.insert(argv.end(), args.begin(), args.end());
    return Exec(argv);
  }
  json::object Json(const CliRun& r) {
    boost::system::error_code ec;
    json::value v = json::parse(r.output, ec);
    EXPECT_FALSE(ec) << "not JSON: " << r.output;
    return !ec && v.is_object() ? v.as_object() : json::object{};
  }
  // The domain `name` in a `domains list --json` answer (null when absent).
  json::value Listed(const std::string& name) {
    CliRun r = Cli("domains", {"list", "--json"});
    EXPECT_EQ(r.code, 0) << r.output;
    json::object doc = Json(r);
    if (auto* ds = doc.if_contains("domains"); ds && ds->is_array()) {
      for (const auto& d : ds->as_array())
        if (d.is_object() && d.as_object().contains("name") &&
            d.as_object().at("name") == json::value(name))
          return d;
    } else {
      ADD_FAILURE() << "no domains array: " << r.output;
    }
    return nullptr;
  }
  std::string Sink() const { return "[127.0.0.1]:" + std::to_string(sink_.port()); }

  int runs_ = 0;
};

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(ProvisionCliTest, DomainsAddListSetDelete) {
  ASSERT_TRUE(Start());
  CliRun r = Cli("domains", {"add", "cli.test", "--dest", Sink(), "--tag-score", "5"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Has(r.output, "cli.test") && Has(r.output, Sink())) << r.output;

  json::value d = Listed("cli.test");
  ASSERT_TRUE(d.is_object()) << "added domain not listed";
  EXPECT_EQ(d.at("source"), json::value("api"));
  EXPECT_EQ(d.at("filtering"), json::value(false));
  EXPECT_EQ(d.at("destinations"), json::value(json::array{json::value(Sink())}));
  EXPECT_EQ(d.at("spam").at("tag_score").to_number<double>(), 5.0);
  json::value cfg = Listed("example.com");
  ASSERT_TRUE(cfg.is_object()) << "config domain not listed";
  EXPECT_EQ(cfg.at("source"), json::value("config"));

  r = Cli("domains", {"list"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Has(r.output, "NAME") && Has(r.output, "cli.test") && Has(r.output, "example.com"))
      << r.output;
  r = Cli("domains", {"list", "--search", "cli"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Has(r.output, "cli.test")) << r.output;

  r = Cli("domains", {"set", "cli.test", "--filtering", "on"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex("Filtering: +on"))) << r.output;
  r = Cli("domains", {"show", "cli.test", "--json"});
  ASSERT_EQ(r.code, 0) << r.output;
  json::object shown = Json(r);
  EXPECT_EQ(shown["filtering"], json::value(true)) << r.output;
  EXPECT_EQ(shown["spam"].at("tag_score").to_number<double>(), 5.0) << "PATCH kept other keys";
  EXPECT_EQ(shown["destinations"], json::value(json::array{json::value(Sink())}));

  // API errors: exit 1, `spamweeder: STATUS: ERROR (field: F)` on stderr.
  r = Cli("domains", {"set", "cli.test", "--tls", "required", "--version", "1"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Has(r.output, "spamweeder: 412: ")) << "stale version: " << r.output;
  r = Cli("domains", {"add", "bad.test", "--dest", "[127.0.0.1]:99999"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Has(r.output, "spamweeder: 422: ") && Has(r.output, "(field: destinations[0])"))
      << r.output;
  r = Cli("domains", {"add", "CLI.test", "--dest", Sink()});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Has(r.output, "spamweeder: 409: ")) << "duplicate: " << r.output;
  r = Cli("domains", {"delete", "example.com"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Has(r.output, "spamweeder: 409: ")) << "config domain: " << r.output;
  r = Cli("domains", {"add", "x.test"});
  EXPECT_EQ(r.code, 2) << "usage: " << r.output;
  EXPECT_TRUE(Has(r.output, "usage: spamweeder domains")) << r.output;

  r = Cli("domains", {"delete", "cli.test"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Has(r.output, "cli.test: deleted")) << r.output;
  EXPECT_TRUE(Listed("cli.test").is_null()) << "deleted domain still listed";
  r = Cli("domains", {"show", "cli.test"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Has(r.output, "spamweeder: 404: ")) << r.output;
}

TEST_F(ProvisionCliTest, TokensCreateListUseRevoke) {
  ASSERT_TRUE(Start());
  CliRun r =
      Cli("tokens", {"create", "--account", "operator", "--role", "read", "--name", "cli-ci"});
  ASSERT_EQ(r.code, 0) << r.output;
  std::smatch token, id;
  ASSERT_TRUE(std::regex_search(r.output, token, std::regex("\\bsw_[A-Za-z0-9_-]{43}\\b")))
      << r.output;
  ASSERT_TRUE(std::regex_search(r.output, id, std::regex("\\bt_[A-Za-z0-9_-]+"))) << r.output;
  const std::string secret = token.str(), tid = id.str();

  r = Cli("tokens", {"list"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Has(r.output, tid) && Has(r.output, "cli-ci") && Has(r.output, "read")) << r.output;
  EXPECT_FALSE(Has(r.output, secret)) << "the secret is shown once only";
  r = Cli("tokens", {"list", "--json"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Json(r).contains("tokens")) << r.output;
  EXPECT_TRUE(Has(r.output, tid) && !Has(r.output, secret)) << r.output;

  // The new token acts instead of the config's: it may read, not write.
  r = Cli("domains", {"list"}, secret);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Has(r.output, "example.com")) << r.output;
  r = Cli("domains", {"add", "ro.test", "--dest", Sink()}, secret);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Has(r.output, "spamweeder: 403: ")) << "read token wrote: " << r.output;
  r = Exec({"/usr/bin/env", "SW_TOKEN=" + secret, SW_BINARY, "domains", "--admin", Admin(), "add",
            "ro.test", "--dest", Sink()});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Has(r.output, "spamweeder: 403: ")) << "SW_TOKEN not used: " << r.output;

  r = Cli("tokens", {"revoke", tid});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Has(r.output, tid + ": revoked")) << r.output;
  r = Cli("domains", {"list"}, secret);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Has(r.output, "spamweeder: 401: ")) << "revoked token still works: " << r.output;
  r = Cli("tokens", {"create", "--account", "operator", "--role", "owner"});
  EXPECT_EQ(r.code, 2) << r.output;
}

}  // namespace
}  // namespace sw::it
