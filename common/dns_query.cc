// Owns one blocking DNS query through libresolv (see dns_query.h).
// Fails by DnsReply: resolver_unavailable, or length < 0 with the resolver's h_errno.
#include "common/dns_query.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

namespace sw {

namespace {

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

DnsReply DnsQuery(const std::string& name, int type,
                  const std::vector<config::ListenAddress>& servers, unsigned char* buf, int size) {
  struct __res_state st {};
  DnsReply r;
  if (res_ninit(&st) != 0) {
    r.resolver_unavailable = true;
    return r;
  }
  if (!servers.empty()) UseServers(st, servers);
  // Bounded (about 8 s per server at worst): a shared worker thread is never held long.
  st.retrans = 2;
  st.retry = 2;
  r.length = res_nquery(&st, name.c_str(), ns_c_in, type, buf, size);
  r.herr = st.res_h_errno;
  res_nclose(&st);
  return r;
}

}  // namespace sw
