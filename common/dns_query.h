// Owns one blocking DNS query through libresolv: the system resolver, or the servers of
// `dns.servers`. Call it off the event loop. Fails by DnsReply (no answer, h_errno kept).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace sw {

struct DnsReply {
  bool resolver_unavailable = false;  // res_ninit failed
  int length = -1;                    // answer bytes in the buffer; < 0: no answer
  int herr = 0;                       // the resolver's h_errno when length < 0
};

// Queries `name` of `type` (ns_t_mx, ns_t_txt, ...) into buf. `servers` replace resolv.conf's
// name servers when set (the first MAXNS IPv4 ones). Bounded: 2 tries of 2 s per server.
DnsReply DnsQuery(const std::string& name, int type,
                  const std::vector<config::ListenAddress>& servers, unsigned char* buf, int size);

}  // namespace sw
