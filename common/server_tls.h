// Owns the TLS server contexts (SMTP STARTTLS, HTTPS admin): one per certificate, chosen by SNI.
// Fails to build (null + a message) on an unreadable or mismatched certificate or key.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace sw {

// True if certificate DNS name `pattern` covers `host` (case-insensitive, trailing dots
// ignored). A wildcard is only a whole leftmost label: `*.example.net` matches
// `mx.example.net`, never `example.net` or `a.mx.example.net`.
bool CertificateNameMatches(std::string_view pattern, std::string_view host);

// The DNS names a certificate serves: its subjectAltName DNS entries, or its subject CN when
// it has none.
std::vector<std::string> CertificateDnsNames(X509* cert);

// The index of the first name list with a name covering `host`, or -1 (the default).
int ChooseCertificate(const std::vector<std::vector<std::string>>& names, std::string_view host);

// Immutable once built; a SIGHUP reload builds a new one, and sessions in flight keep theirs
// (they hold it by shared_ptr until their handshake and stream are gone).
class ServerTls {
 public:
  // Null for no `server.tls`, or on failure with `*err` naming the file and the reason.
  static std::shared_ptr<ServerTls> Build(const config::TlsFiles& files, std::string* err);

  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // The context new streams start with; SNI may switch them to another one of this object's.
  boost::asio::ssl::context& context() { return *default_; }

 private:
  ServerTls() = default;
  static int OnServerName(SSL* ssl, int* alert, void* arg);

  std::unique_ptr<boost::asio::ssl::context> default_;
  std::vector<std::unique_ptr<boost::asio::ssl::context>> extra_;  // server.tls.certificates
  std::vector<std::vector<std::string>> names_;                    // DNS names of each extra_
};

}  // namespace sw
