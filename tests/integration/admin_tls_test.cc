// Owns the HTTPS admin listener's tests (`admin.tls`, issue 11) through the `curl` command:
// certificate by SNI, HSTS, the portal's Secure cookie, no plain HTTP, reload on SIGHUP.
// Fails with the gateway's log dumped.
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/test_certificate.h"

namespace sw::it {
namespace {

struct CurlResult {
  bool ok = false;      // curl exited 0 (connection, TLS verification and HTTP all worked)
  std::string status;   // "200", from -w
  std::string headers;  // the response's header section
  std::string output;   // curl's stderr
};

// One HTTPS (or `scheme`) request to the admin port for `host`, which resolves to 127.0.0.1;
// the server's certificate is verified against `ca` (a self-signed certificate) and `host`.
CurlResult Curl(const TempDir& dir, uint16_t port, const std::string& host, const std::string& ca,
                const std::string& path, std::vector<std::string> extra = {},
                const std::string& scheme = "https") {
  const std::string p = std::to_string(port);
  ::unlink(dir.File("curl.out").c_str());  // Process::Run appends
  ::unlink(dir.File("curl.headers").c_str());
  std::vector<std::string> argv = {"/usr/bin/curl",
                                   "-sS",
                                   "--max-time",
                                   "5",
                                   "--resolve",
                                   host + ":" + p + ":127.0.0.1",
                                   "--cacert",
                                   ca,
                                   "-D",
                                   dir.File("curl.headers"),
                                   "-o",
                                   dir.File("curl.body"),
                                   "-w",
                                   "%{http_code}"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(scheme + "://" + host + ":" + p + path);
  auto st = Process::Run(argv, dir.File("curl.out"), std::chrono::seconds(10), nullptr);
  CurlResult r;
  r.ok = st && st->exited && st->code == 0;
  std::string out = ReadFile(dir.File("curl.out"));
  r.status = out.substr(0, 3);
  r.output = out;
  r.headers = ReadFile(dir.File("curl.headers"));
  return r;
}

class AdminTlsTest : public GatewayTest {
 protected:
  // Default certificate admin.gateway.test, SNI certificate portal.reseller.test.
  GatewayOptions HttpsOptions() {
    GatewayOptions o = DefaultOptions();
    EXPECT_TRUE(MakeSelfSignedCertificate(dir_, "admin", "admin.gateway.test"));
    EXPECT_TRUE(MakeSelfSignedCertificate(dir_, "portal", "portal.reseller.test"));
    o.admin_yaml = "  tls:\n    certificate: " + dir_.File("admin.crt") +
                   "\n    key: " + dir_.File("admin.key") +
                   "\n    certificates:\n      - certificate: " + dir_.File("portal.crt") +
                   "\n        key: " + dir_.File("portal.key") + "\n";
    return o;
  }
  uint16_t admin_port() const { return gw_->admin_port(); }
};

TEST_F(AdminTlsTest, SniCertificateHstsAndSecureSessionCookie) {
  ASSERT_TRUE(StartGateway(HttpsOptions()));
  ASSERT_NE(admin_port(), 0);
  ASSERT_TRUE(gw_->log().Find("event=listening\\b.*\\bservice=admin\\b.*\\btls=yes"));

  // The reseller's portal host gets its own certificate (curl verifies name and chain).
  CurlResult r =
      Curl(dir_, admin_port(), "portal.reseller.test", dir_.File("portal.crt"), "/portal/session",
           {"-X", "POST", "-H", "Content-Type: application/json", "--data",
            std::string("{\"token\":\"") + GatewayProcess::kAdminToken + "\"}"});
  ASSERT_TRUE(r.ok) << r.output;
  EXPECT_EQ(r.status, "200");
  EXPECT_NE(r.headers.find("; HttpOnly; SameSite=Strict;"), std::string::npos) << r.headers;
  EXPECT_NE(r.headers.find("; Secure"), std::string::npos) << r.headers;
  EXPECT_NE(r.headers.find("Strict-Transport-Security: max-age=31536000"), std::string::npos)
      << r.headers;

  // Any other name gets the default certificate; the portal's does not verify for it.
  r = Curl(dir_, admin_port(), "admin.gateway.test", dir_.File("admin.crt"), "/healthz");
  ASSERT_TRUE(r.ok) << r.output;
  EXPECT_EQ(r.status, "200");
  r = Curl(dir_, admin_port(), "admin.gateway.test", dir_.File("portal.crt"), "/healthz");
  EXPECT_FALSE(r.ok) << "the default certificate verified against the portal's";

  // Plain HTTP on the HTTPS port gets no HTTP answer at all.
  r = Curl(dir_, admin_port(), "admin.gateway.test", dir_.File("admin.crt"), "/healthz", {},
           "http");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.status, "200") << r.output << r.headers;
}

TEST_F(AdminTlsTest, PlainHttpListenerSetsNoSecureCookie) {
  ASSERT_TRUE(StartGateway());
  ASSERT_TRUE(gw_->log().Find("event=listening\\b.*\\bservice=admin\\b.*\\btls=no"));
  CurlResult r = Curl(dir_, admin_port(), "admin.gateway.test", "/dev/null", "/portal/session",
                      {"-X", "POST", "-H", "Content-Type: application/json", "--data",
                       std::string("{\"token\":\"") + GatewayProcess::kAdminToken + "\"}"},
                      "http");
  ASSERT_TRUE(r.ok) << r.output;
  EXPECT_EQ(r.status, "200");
  EXPECT_NE(r.headers.find("Set-Cookie: sw_session="), std::string::npos) << r.headers;
  EXPECT_EQ(r.headers.find("Secure"), std::string::npos) << r.headers;
  EXPECT_EQ(r.headers.find("Strict-Transport-Security"), std::string::npos) << r.headers;
}

TEST_F(AdminTlsTest, SighupReloadsCertificatesAndKeepsThemWhenBroken) {
  ASSERT_TRUE(StartGateway(HttpsOptions()));
  ASSERT_TRUE(
      Curl(dir_, admin_port(), "portal.reseller.test", dir_.File("portal.crt"), "/healthz").ok);
  // The reseller renewed its certificate under a new name, at the same paths.
  ASSERT_TRUE(MakeSelfSignedCertificate(dir_, "portal", "portal2.reseller.test"));
  ASSERT_TRUE(gw_->process().Signal(SIGHUP));
  ASSERT_TRUE(gw_->log().WaitFor("event=reloaded\\b", std::chrono::seconds(5)));
  CurlResult r =
      Curl(dir_, admin_port(), "portal2.reseller.test", dir_.File("portal.crt"), "/healthz");
  ASSERT_TRUE(r.ok) << r.output;
  EXPECT_EQ(r.status, "200");

  // A broken file: reload_failed naming it, and the running certificates stay.
  ASSERT_TRUE(WriteFile(dir_.File("portal2-ca.crt"), ReadFile(dir_.File("portal.crt"))));
  ASSERT_TRUE(WriteFile(dir_.File("portal.crt"), "not a certificate\n"));
  ASSERT_TRUE(gw_->process().Signal(SIGHUP));
  auto failed = gw_->log().WaitFor("event=reload_failed\\b", std::chrono::seconds(5));
  ASSERT_TRUE(failed);
  EXPECT_NE(failed->line.find("admin.tls"), std::string::npos) << failed->line;
  r = Curl(dir_, admin_port(), "portal2.reseller.test", dir_.File("portal2-ca.crt"), "/healthz");
  EXPECT_TRUE(r.ok) << r.output;
  EXPECT_TRUE(gw_->running());
}

}  // namespace
}  // namespace sw::it
