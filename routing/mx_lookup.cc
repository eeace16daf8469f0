// Owns MX resolution for mail to non-customer domains (DSNs when outbound_relay is empty).
// Fails by result: lookup errors are reported as temporary; a null MX (RFC 7505) as permanent.
#include "routing/mx_lookup.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <utility>

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

namespace {

// Replaces the resolv.conf name servers with `servers` (the first MAXNS IPv4 ones).
void UseServers(struct __res_state& st, const std::vector<config::ListenAddress>& servers) {
  int n = 0;
  for (const auto& s : servers) {
    if (n >= MAXNS) break;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(s.port ? s.port : 53);
    if (inet_pton(AF_INET, s.host.c_str(), &sin.sin_addr) != 1) continue;
    st.nsaddr_list[n++] = sin;
  }
  if (n > 0) st.nscount = n;
}

}  // namespace

MxAnswer LookupMx(const std::string& domain, const std::vector<config::ListenAddress>& servers) {
  struct __res_state st {};
  MxAnswer a;
  if (res_ninit(&st) != 0) {
    a.error = "MX lookup for " + domain + ": resolver unavailable";
    return a;
  }
  if (!servers.empty()) UseServers(st, servers);
  // Bounded (about 8 s per server at worst): a shared worker thread is never held long.
  st.retrans = 2;
  st.retry = 2;
  unsigned char buf[NS_PACKETSZ * 16];
  int n = res_nquery(&st, domain.c_str(), ns_c_in, ns_t_mx, buf, sizeof buf);
  int herr = st.res_h_errno;
  res_nclose(&st);
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
