// Owns the self-signed certificates of the integration tests, made by the `openssl` command.
// Fails by returning false after an ADD_FAILURE naming openssl's output.
#pragma once

#include <string>

#include "tests/integration/harness/process.h"

namespace sw::it {

// A self-signed RSA certificate for `name` (CN and the only SAN DNS name), valid one day, at
// dir/stem.crt with its key at dir/stem.key. Overwrites both.
bool MakeSelfSignedCertificate(const TempDir& dir, const std::string& stem,
                               const std::string& name);

}  // namespace sw::it
