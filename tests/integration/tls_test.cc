// Owns the inbound STARTTLS tests through `openssl s_client`: SNI certificate choice, the
// minimum protocol version, certificate reload on SIGHUP. Fails with the gateway's log dumped.
#include <signal.h>

#include <string>
#include <vector>

#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/test_certificate.h"

namespace sw::it {
namespace {

// Single-quoted for /bin/sh (temp dir paths hold no quote).
std::string Sh(const std::string& s) { return "'" + s + "'"; }

struct Handshake {
  bool ok = false;      // s_client exited 0 and printed the server certificate
  std::string subject;  // `openssl x509 -subject -ext subjectAltName` of that certificate
  std::string transcript;
};

// One `openssl s_client -starttls smtp` to the gateway, stdin closed (so it quits after the
// handshake), 5 s at most; `extra` are more s_client flags.
Handshake Connect(const TempDir& dir, uint16_t port, const std::string& sni,
                  const std::string& extra = "") {
  std::string out = dir.File("s_client.out"), cert = dir.File("s_client.x509");
  std::string cmd = "timeout 5 /usr/bin/openssl s_client -starttls smtp -connect 127.0.0.1:" +
                    std::to_string(port) +
                    (sni.empty() ? " -noservername" : " -servername " + sni) + " " + extra +
                    " </dev/null >" + Sh(out) +
                    " 2>&1; rc=$?; /usr/bin/openssl x509 -noout -subject -ext subjectAltName <" +
                    Sh(out) + " >" + Sh(cert) + " 2>&1; exit $rc";
  auto st = Process::Run({"/bin/sh", "-c", cmd}, dir.File("s_client.log"), 10s, nullptr);
  Handshake h;
  h.transcript = ReadFile(out);
  h.ok = st && st->exited && st->code == 0 &&
         h.transcript.find("BEGIN CERTIFICATE") != std::string::npos;
  if (h.ok) h.subject = ReadFile(cert);
  return h;
}

bool Presents(const Handshake& h, const std::string& name) {
  return h.ok && h.subject.find("CN = " + name) != std::string::npos &&
         h.subject.find("DNS:" + name) != std::string::npos;
}

class TlsTest : public GatewayTest {
 protected:
  // Default certificate mx.a.test, SNI certificate mx.b.test.
  GatewayOptions TwoCertificates() {
    GatewayOptions o = DefaultOptions();
    EXPECT_TRUE(MakeSelfSignedCertificate(dir_, "a", "mx.a.test"));
    EXPECT_TRUE(MakeSelfSignedCertificate(dir_, "b", "mx.b.test"));
    o.tls_certificate = dir_.File("a.crt");
    o.tls_key = dir_.File("a.key");
    o.tls_certificates = {{dir_.File("b.crt"), dir_.File("b.key")}};
    return o;
  }
};

TEST_F(TlsTest, SniChoosesTheCertificateElseTheDefault) {
  ASSERT_TRUE(StartGateway(TwoCertificates()));
  Handshake h = Connect(dir_, port(), "mx.b.test");
  EXPECT_TRUE(Presents(h, "mx.b.test")) << h.subject << h.transcript;
  h = Connect(dir_, port(), "MX.B.TEST");
  EXPECT_TRUE(Presents(h, "mx.b.test")) << h.subject << h.transcript;
  h = Connect(dir_, port(), "");
  EXPECT_TRUE(Presents(h, "mx.a.test")) << h.subject << h.transcript;
  h = Connect(dir_, port(), "unknown.test");
  EXPECT_TRUE(Presents(h, "mx.a.test")) << h.subject << h.transcript;
  h = Connect(dir_, port(), "mx.a.test");
  EXPECT_TRUE(Presents(h, "mx.a.test")) << h.subject << h.transcript;
}

// The client side allows TLS 1.1 (security level 0), so only the server can refuse it.
constexpr const char* kTls11 = "-tls1_1 -cipher DEFAULT@SECLEVEL=0";

TEST_F(TlsTest, Tls11RefusedByDefaultAcceptedWhenConfigured) {
  ASSERT_TRUE(StartGateway(TwoCertificates()));
  Handshake h = Connect(dir_, port(), "mx.b.test", kTls11);
  EXPECT_FALSE(h.ok) << h.transcript;
  EXPECT_TRUE(gw_->log().WaitFor("event=tls_failed\\b", 5s));
  h = Connect(dir_, port(), "mx.b.test", "-tls1_2");
  EXPECT_TRUE(Presents(h, "mx.b.test")) << h.subject << h.transcript;
  EXPECT_NE(h.transcript.find("TLSv1.2"), std::string::npos) << h.transcript;
  h = Connect(dir_, port(), "mx.b.test", "-tls1_3");
  EXPECT_TRUE(Presents(h, "mx.b.test")) << h.subject << h.transcript;

  // The operator's choice for old senders: the same client now gets TLS 1.1.
  ASSERT_TRUE(gw_->Sigterm(10s));
  gw_->options().tls_min_version = "1.0";
  ASSERT_TRUE(gw_->Start());
  h = Connect(dir_, port(), "mx.b.test", kTls11);
  EXPECT_TRUE(Presents(h, "mx.b.test")) << h.subject << h.transcript;
  EXPECT_NE(h.transcript.find("TLSv1.1"), std::string::npos) << h.transcript;
}

TEST_F(TlsTest, SighupReloadsCertificatesAndKeepsThemWhenBroken) {
  ASSERT_TRUE(StartGateway(TwoCertificates()));
  ASSERT_TRUE(Presents(Connect(dir_, port(), "mx.b.test"), "mx.b.test"));
  // New files at the same paths: mx.c.test replaces mx.b.test, mx.d.test the default.
  ASSERT_TRUE(MakeSelfSignedCertificate(dir_, "b", "mx.c.test"));
  ASSERT_TRUE(MakeSelfSignedCertificate(dir_, "a", "mx.d.test"));
  ASSERT_TRUE(gw_->process().Signal(SIGHUP));
  ASSERT_TRUE(gw_->log().WaitFor("event=reloaded\\b", 5s));
  Handshake h = Connect(dir_, port(), "mx.c.test");
  EXPECT_TRUE(Presents(h, "mx.c.test")) << h.subject << h.transcript;
  h = Connect(dir_, port(), "mx.b.test");
  EXPECT_TRUE(Presents(h, "mx.d.test")) << h.subject << h.transcript;

  // A broken certificate: reload_failed, and the running contexts stay.
  ASSERT_TRUE(WriteFile(dir_.File("b.crt"), "not a certificate\n"));
  ASSERT_TRUE(gw_->process().Signal(SIGHUP));
  auto failed = gw_->log().WaitFor("event=reload_failed\\b", 5s);
  ASSERT_TRUE(failed);
  EXPECT_NE(failed->line.find("b.crt"), std::string::npos) << failed->line;
  h = Connect(dir_, port(), "mx.c.test");
  EXPECT_TRUE(Presents(h, "mx.c.test")) << h.subject << h.transcript;
  EXPECT_TRUE(gw_->running());
}

}  // namespace
}  // namespace sw::it
