// Owns the unit tests of SNI certificate choice: name matching, SAN/CN names, context building.
// Fails by gtest expectations; certificates are made in memory (EC P-256) and in a temp dir.
#include "common/server_tls.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace sw {
namespace {

struct Made {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  ~Made() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

// A self-signed certificate with subject CN `cn` and, when `san` is not empty, a
// subjectAltName extension such as "DNS:a.test,DNS:*.b.test".
void MakeCert(Made& m, const std::string& cn, const std::string& san) {
  m.key = EVP_EC_gen("P-256");
  ASSERT_NE(m.key, nullptr);
  m.cert = X509_new();
  X509_set_version(m.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(m.cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(m.cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(m.cert), 3600);
  X509_set_pubkey(m.cert, m.key);
  X509_NAME* name = X509_get_subject_name(m.cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(m.cert, name);
  if (!san.empty()) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
    ASSERT_NE(ext, nullptr);
    X509_add_ext(m.cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  ASSERT_GT(X509_sign(m.cert, m.key, EVP_sha256()), 0);
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("sw_server_tls_" + std::to_string(getpid()) + "_" + name))
      .string();
}

void WritePem(const Made& m, const std::string& cert_path, const std::string& key_path) {
  FILE* f = std::fopen(cert_path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_X509(f, m.cert);
  std::fclose(f);
  f = std::fopen(key_path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_PrivateKey(f, m.key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

TEST(ServerTls, NameMatching) {
  EXPECT_TRUE(CertificateNameMatches("mx.a.test", "mx.a.test"));
  EXPECT_TRUE(CertificateNameMatches("MX.A.test", "mx.a.TEST."));
  EXPECT_FALSE(CertificateNameMatches("mx.a.test", "mx.b.test"));
  EXPECT_FALSE(CertificateNameMatches("mx.a.test", "a.test"));
  EXPECT_TRUE(CertificateNameMatches("*.example.net", "mx.example.net"));
  EXPECT_TRUE(CertificateNameMatches("*.Example.net", "MX.example.net"));
  EXPECT_FALSE(CertificateNameMatches("*.example.net", "example.net"));
  EXPECT_FALSE(CertificateNameMatches("*.example.net", "a.mx.example.net"));
  EXPECT_FALSE(CertificateNameMatches("*.example.net", ".example.net"));
  EXPECT_FALSE(CertificateNameMatches("*.example.net", "mxexample.net"));
  EXPECT_FALSE(CertificateNameMatches("*.net", "example.net"));  // too broad: refused
  EXPECT_FALSE(CertificateNameMatches("mx*.example.net", "mx1.example.net"));
  EXPECT_FALSE(CertificateNameMatches("*.*.example.net", "a.b.example.net"));
  EXPECT_FALSE(CertificateNameMatches("", "mx.example.net"));
  EXPECT_FALSE(CertificateNameMatches("mx.example.net", ""));
}

TEST(ServerTls, ChooseCertificateFirstMatchElseDefault) {
  std::vector<std::vector<std::string>> names = {{"mx.a.test"}, {"*.b.test", "b.test"}};
  EXPECT_EQ(ChooseCertificate(names, "mx.a.test"), 0);
  EXPECT_EQ(ChooseCertificate(names, "mx.b.test"), 1);
  EXPECT_EQ(ChooseCertificate(names, "b.test"), 1);
  EXPECT_EQ(ChooseCertificate(names, "x.y.b.test"), -1);
  EXPECT_EQ(ChooseCertificate(names, "other.test"), -1);
  EXPECT_EQ(ChooseCertificate({}, "mx.a.test"), -1);
}

TEST(ServerTls, DnsNamesFromSanElseCn) {
  Made with_san;
  MakeCert(with_san, "ignored.test", "DNS:mx.a.test,IP:192.0.2.1,DNS:*.b.test");
  EXPECT_EQ(CertificateDnsNames(with_san.cert),
            (std::vector<std::string>{"mx.a.test", "*.b.test"}));
  Made cn_only;
  MakeCert(cn_only, "mx.cn.test", "");
  EXPECT_EQ(CertificateDnsNames(cn_only.cert), (std::vector<std::string>{"mx.cn.test"}));
  Made ip_only;  // a SAN without DNS names: the CN is all there is
  MakeCert(ip_only, "mx.ip.test", "IP:192.0.2.1");
  EXPECT_EQ(CertificateDnsNames(ip_only.cert), (std::vector<std::string>{"mx.ip.test"}));
  EXPECT_TRUE(CertificateDnsNames(nullptr).empty());
}

TEST(ServerTls, BuildChecksFilesAndKeyMatch) {
  Made a, b;
  MakeCert(a, "mx.a.test", "DNS:mx.a.test");
  MakeCert(b, "mx.b.test", "DNS:mx.b.test");
  std::string ca = TempPath("a.crt"), ka = TempPath("a.key");
  std::string cb = TempPath("b.crt"), kb = TempPath("b.key");
  WritePem(a, ca, ka);
  WritePem(b, cb, kb);
  std::string err;
  config::TlsFiles files{ca, ka, {{cb, kb}}, config::TlsVersion::k1_2};
  EXPECT_NE(ServerTls::Build(files, &err), nullptr) << err;
  files.certificates[0].key = ka;  // a's key for b's certificate
  EXPECT_EQ(ServerTls::Build(files, &err), nullptr);
  EXPECT_NE(err.find("mismatch"), std::string::npos) << err;
  files.certificates.clear();
  files.certificate = ka;  // not a certificate
  EXPECT_EQ(ServerTls::Build(files, &err), nullptr);
  EXPECT_EQ(err.rfind(ka + ": ", 0), 0u) << err;
  for (const auto& p : {ca, ka, cb, kb}) std::remove(p.c_str());
}

}  // namespace
}  // namespace sw
