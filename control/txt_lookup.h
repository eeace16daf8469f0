// Owns TXT record lookups for domain ownership verification: the system resolver, or the
// servers of `dns.servers`. Blocking: call it off the event loop. Fails by TxtAnswer::error.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace sw::control {

struct TxtAnswer {
  std::vector<std::string> records;  // each record's character-strings joined
  bool nxdomain = false;             // the name (or its TXT set) does not exist
  std::string error;                 // temporary failure (timeout, SERVFAIL, no resolver)
};

// Queries `name` IN TXT through `servers` (IPv4 "ip" or "ip:port"; empty: /etc/resolv.conf).
TxtAnswer LookupTxt(const std::string& name, const std::vector<config::ListenAddress>& servers);

// Parses a DNS response packet (exposed for tests).
TxtAnswer ParseTxtResponse(const unsigned char* packet, int length);

}  // namespace sw::control
