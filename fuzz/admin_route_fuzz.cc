// Owns fuzzing of the admin API's request router: any request target either is refused with a
// reason or maps to one endpoint with the methods it answers. Fails (aborts) on a broken invariant.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "admin/route.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace sw::admin;

bool HasUpper(const std::string& s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z') return true;
  return false;
}

// %-encodes every byte but unreserved ones (RFC 3986 2.3).
std::string Encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void Target(const std::string& target) {
  std::string error;
  std::optional<Route> r = ParseRoute(target, &error);
  if (!r) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  FUZZ_CHECK(!target.empty() && target[0] == '/');
  if (r->endpoint == Endpoint::kUnknown) return;
  const std::string allowed = AllowedMethods(r->endpoint);
  FUZZ_CHECK(!allowed.empty());
  FUZZ_CHECK(MethodAllowed(r->endpoint, allowed.substr(0, allowed.find(','))));
  FUZZ_CHECK(!MethodAllowed(r->endpoint, "TRACE"));
  const bool open = r->endpoint == Endpoint::kHealthz || r->endpoint == Endpoint::kMetrics;
  FUZZ_CHECK(open != r->api);  // everything but health and metrics needs the bearer token
  if (!r->domain.empty()) {
    FUZZ_CHECK(!HasUpper(r->domain));  // one trailing dot is dropped; "a.." names no domain
  }
  if (r->endpoint == Endpoint::kMessageAction || r->endpoint == Endpoint::kDomainAction)
    FUZZ_CHECK(!r->action.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string target = in.ConsumeRandomLengthString(4096);
  const std::string raw = in.ConsumeRemainingBytesAsString();
  Target(target);
  // Any byte string survives %-encoding as an ID: the message endpoint gets it back whole.
  const std::string enc = Encode(raw);
  FUZZ_CHECK(PercentDecode(enc, false) == raw && PercentDecode(enc, true) == raw);
  if (!raw.empty() && raw != "summary") {
    std::string error;
    std::optional<Route> r = ParseRoute("/api/v1/queue/" + enc + "?a=" + enc, &error);
    FUZZ_CHECK(r && r->endpoint == Endpoint::kMessage && r->id == raw);
    FUZZ_CHECK(r->query.count("a") == 1 && r->query.at("a") == raw);
  }
  return 0;
}
