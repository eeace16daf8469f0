// Owns MX resolution for mail to non-customer domains (DSNs when outbound_relay is empty).
// Fails by result: lookup errors are reported as temporary; a null MX (RFC 7505) as permanent.
#pragma once

#include <string>
#include <vector>

namespace sw::routing {

struct MxAnswer {
  std::vector<std::string> hosts;  // by preference, lowest first; implicit MX = the domain
  bool null_mx = false;            // "MX 0 ." : the domain accepts no mail
  std::string error;               // non-empty: lookup failed (try again later)
};

// Blocking DNS query through the system resolver (libresolv). Call off the event loop.
MxAnswer LookupMx(const std::string& domain);

// Parses a DNS response packet for `domain` (exposed for tests).
MxAnswer ParseMxResponse(const unsigned char* packet, int length, const std::string& domain);

}  // namespace sw::routing
