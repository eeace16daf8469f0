// Owns MX resolution for mail to non-customer domains (DSNs when outbound_relay is empty).
// Fails by result: lookup errors are reported as temporary; a null MX (RFC 7505) as permanent.
#include "routing/mx_lookup.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

#include <algorithm>
#include <utility>

#include "common/dns_query.h"

namespace sw::routing {

MxAnswer ParseMxResponse(const unsigned char* packet, int length, const std::string& domain) {
  MxAnswer a;
  ns_msg msg;
  if (ns_initparse(packet, length, &msg) < 0) {
    a.error = "MX lookup for " + domain + ": malformed response";
    return a;
  }
  std::vector<std::pair<int, std::string>> mx;
  int count = ns_msg_count(msg, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_mx) continue;
    if (ns_rr_rdlen(rr) < 3) continue;
    const unsigned char* rd = ns_rr_rdata(rr);
    int pref = (rd[0] << 8) | rd[1];
    char name[NS_MAXDNAME];
    if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 2, name, sizeof name) < 0) continue;
    mx.emplace_back(pref, name);
  }
  if (mx.size() == 1 && (mx[0].second.empty() || mx[0].second == ".")) {
    a.null_mx = true;
    return a;
  }
  std::stable_sort(mx.begin(), mx.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  for (auto& [p, h] : mx)
    if (!h.empty() && h != ".") a.hosts.push_back(std::move(h));
  if (a.hosts.empty()) a.hosts.push_back(domain);  // RFC 5321 5.1: implicit MX
  return a;
}

MxAnswer LookupMx(const std::string& domain, const std::vector<config::ListenAddress>& servers) {
  MxAnswer a;
  unsigned char buf[NS_PACKETSZ * 16];
  DnsReply r = DnsQuery(domain, ns_t_mx, servers, buf, sizeof buf);
  if (r.resolver_unavailable) {
    a.error = "MX lookup for " + domain + ": resolver unavailable";
    return a;
  }
  int n = r.length;
  int herr = r.herr;
  if (n < 0) {
    if (herr == HOST_NOT_FOUND) {
      a.error = "MX lookup for " + domain + ": domain does not exist";
      a.null_mx = true;  // nothing can ever be delivered there
      return a;
    }
    if (herr == NO_DATA) {
      a.hosts.push_back(domain);  // no MX records: implicit MX
      return a;
    }
    a.error = "MX lookup for " + domain + ": temporary DNS failure";
    return a;
  }
  return ParseMxResponse(buf, n, domain);
}

}  // namespace sw::routing
