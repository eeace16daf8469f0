// Owns the TLS server contexts (SMTP STARTTLS, HTTPS admin): one per certificate, chosen by SNI.
// Fails to build (null + a message) on an unreadable or mismatched certificate or key.
#include "common/server_tls.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

namespace sw {

namespace asio = boost::asio;

namespace {

std::string LowerNoDot(std::string_view s) {
  while (!s.empty() && s.back() == '.') s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int OpenSslVersion(config::TlsVersion v) {
  switch (v) {
    case config::TlsVersion::k1_0:
      return TLS1_VERSION;
    case config::TlsVersion::k1_1:
      return TLS1_1_VERSION;
    case config::TlsVersion::k1_3:
      return TLS1_3_VERSION;
    default:
      return TLS1_2_VERSION;
  }
}

// One server context for one certificate, with the protocol settings every context shares.
std::unique_ptr<asio::ssl::context> MakeContext(const std::string& certificate,
                                                const std::string& key,
                                                config::TlsVersion min_version, std::string* err) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::single_dh_use |
                       asio::ssl::context::no_compression,
                   ec);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(
      native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_min_proto_version(native, OpenSslVersion(min_version));
  // OpenSSL 3 refuses TLS 1.0/1.1 handshakes (SHA-1 signatures) above security level 0: an
  // operator who lowers the floor for old senders gets a floor that actually works.
  if (min_version < config::TlsVersion::k1_2) SSL_CTX_set_security_level(native, 0);
  ctx->use_certificate_chain_file(certificate, ec);
  if (ec) {
    *err = certificate + ": " + ec.message();
    return nullptr;
  }
  ctx->use_private_key_file(key, asio::ssl::context::pem, ec);
  if (ec) {
    *err = key + ": " + ec.message();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    *err = key + ": does not match the certificate " + certificate;
    return nullptr;
  }
  return ctx;
}

}  // namespace

bool CertificateNameMatches(std::string_view pattern, std::string_view host) {
  std::string p = LowerNoDot(pattern);
  std::string h = LowerNoDot(host);
  if (p.empty() || h.empty()) return false;
  if (p.rfind("*.", 0) != 0) return p == h;
  std::string_view suffix = std::string_view(p).substr(1);  // ".example.net"
  // At least two labels under the wildcard (`*.net` covers too much), no second wildcard.
  if (suffix.find('.', 1) == std::string_view::npos || suffix.find('*') != std::string_view::npos)
    return false;
  if (h.size() <= suffix.size()) return false;
  if (h.compare(h.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  std::string_view label = std::string_view(h).substr(0, h.size() - suffix.size());
  return label.find('.') == std::string_view::npos;
}

std::vector<std::string> CertificateDnsNames(X509* cert) {
  std::vector<std::string> names;
  if (!cert) return names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_DNS) continue;
      const ASN1_STRING* s = gn->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)));
    }
    GENERAL_NAMES_free(sans);
  }
  if (!names.empty()) return names;
  X509_NAME* subject = X509_get_subject_name(cert);
  int idx = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  if (idx >= 0) {
    const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s)));
  }
  return names;
}

int ChooseCertificate(const std::vector<std::vector<std::string>>& names, std::string_view host) {
  for (size_t i = 0; i < names.size(); ++i) {
    for (const auto& n : names[i]) {
      if (CertificateNameMatches(n, host)) return static_cast<int>(i);
    }
  }
  return -1;
}

std::shared_ptr<ServerTls> ServerTls::Build(const config::TlsFiles& files, std::string* err) {
  std::shared_ptr<ServerTls> tls(new ServerTls());
  tls->default_ = MakeContext(files.certificate, files.key, files.min_version, err);
  if (!tls->default_) return nullptr;
  for (const auto& f : files.certificates) {
    auto ctx = MakeContext(f.certificate, f.key, files.min_version, err);
    if (!ctx) return nullptr;
    tls->names_.push_back(CertificateDnsNames(SSL_CTX_get0_certificate(ctx->native_handle())));
    tls->extra_.push_back(std::move(ctx));
  }
  if (!tls->extra_.empty()) {
    SSL_CTX* native = tls->default_->native_handle();
    SSL_CTX_set_tlsext_servername_callback(native, &ServerTls::OnServerName);
    SSL_CTX_set_tlsext_servername_arg(native, tls.get());
  }
  return tls;
}

int ServerTls::OnServerName(SSL* ssl, int* /*alert*/, void* arg) {
  auto* self = static_cast<ServerTls*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_NOACK;  // no SNI: the default certificate
  int i = ChooseCertificate(self->names_, name);
  if (i < 0) return SSL_TLSEXT_ERR_OK;  // unknown name: the default certificate, no alert
  SSL_set_SSL_CTX(ssl, self->extra_[static_cast<size_t>(i)]->native_handle());
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace sw
