// Owns TXT record lookups for domain ownership verification: the system resolver, or the
// servers of `dns.servers`. Blocking: call it off the event loop. Fails by TxtAnswer::error.
#include "control/txt_lookup.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

#include "common/dns_query.h"

namespace sw::control {

TxtAnswer ParseTxtResponse(const unsigned char* packet, int length) {
  TxtAnswer a;
  ns_msg msg;
  if (ns_initparse(packet, length, &msg) != 0) {
    a.error = "malformed DNS response";
    return a;
  }
  int count = ns_msg_count(msg, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) continue;
    if (ns_rr_type(rr) != ns_t_txt) continue;
    const unsigned char* p = ns_rr_rdata(rr);
    const unsigned char* end = p + ns_rr_rdlen(rr);
    std::string text;
    while (p < end) {  // <length><bytes> character-strings, concatenated (RFC 7208 3.3)
      size_t len = *p++;
      if (len > static_cast<size_t>(end - p)) break;
      text.append(reinterpret_cast<const char*>(p), len);
      p += len;
    }
    a.records.push_back(std::move(text));
  }
  return a;
}

TxtAnswer LookupTxt(const std::string& name, const std::vector<config::ListenAddress>& servers) {
  TxtAnswer a;
  unsigned char buf[NS_PACKETSZ * 16];
  DnsReply r = DnsQuery(name, ns_t_txt, servers, buf, sizeof buf);
  if (r.resolver_unavailable) {
    a.error = "resolver unavailable";
    return a;
  }
  int n = r.length;
  int herr = r.herr;
  if (n < 0) {
    if (herr == HOST_NOT_FOUND || herr == NO_DATA) {
      a.nxdomain = true;
    } else {
      a.error = "temporary DNS failure";
    }
    return a;
  }
  return ParseTxtResponse(buf, n);
}

}  // namespace sw::control
