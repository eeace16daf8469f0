// Owns MX resolution for mail to non-customer domains (DSNs when outbound_relay is empty).
// Fails by result: lookup errors are reported as temporary; a null MX (RFC 7505) as permanent.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace sw::routing {

struct MxAnswer {
  std::vector<std::string> hosts;  // by preference, lowest first; implicit MX = the domain
  bool null_mx = false;            // "MX 0 ." : the domain accepts no mail
  std::string error;               // non-empty: lookup failed (try again later)
};

// Blocking DNS query through libresolv: `servers` (`dns.servers`: IPv4 "ip" or "ip:port"), or
// the system resolver (/etc/resolv.conf) when empty. Call off the event loop (MxResolver).
MxAnswer LookupMx(const std::string& domain,
                  const std::vector<config::ListenAddress>& servers = {});

// Parses a DNS response packet for `domain` (exposed for tests).
MxAnswer ParseMxResponse(const unsigned char* packet, int length, const std::string& domain);

}  // namespace sw::routing
