// Owns the self-signed certificates of the integration tests, made by the `openssl` command.
// Fails by returning false after an ADD_FAILURE naming openssl's output.
#include "tests/integration/harness/test_certificate.h"

#include <gtest/gtest.h>

#include <chrono>

namespace sw::it {

bool MakeSelfSignedCertificate(const TempDir& dir, const std::string& stem,
                               const std::string& name) {
  auto st =
      Process::Run({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                    "1", "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name, "-keyout",
                    dir.File(stem + ".key"), "-out", dir.File(stem + ".crt")},
                   dir.File("openssl-req.log"), std::chrono::seconds(30), nullptr);
  bool ok = st && st->exited && st->code == 0;
  if (!ok) ADD_FAILURE() << "openssl req: " << ReadFile(dir.File("openssl-req.log"));
  return ok;
}

}  // namespace sw::it
