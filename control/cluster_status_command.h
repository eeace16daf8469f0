// Owns `spamweeder cluster status -c FILE [--json]`: the nodes of a cluster as their heartbeat
// records (n/<node>) in the shared PostgreSQL store show them, with their queues.
// Fails by exit status: 1 database unreachable or failing, 2 usage or config error or no
// cluster.store (the embedded store has one node, this one). Never throws.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace sw::control {

// `args` are what follows `cluster`. Exit 0 with every node listed (stale ones included).
int ClusterCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace sw::control
