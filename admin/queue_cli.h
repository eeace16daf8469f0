// Owns the `spamweeder queue` commands (SPEC section 2): a thin client of the admin API.
// Fails by exit status: 0 ok, 1 daemon unreachable or API error, 2 usage or config error.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace sw::admin {

// `args` are the words after `queue`:
//   -c FILE [--admin IP:PORT] list [--domain D] [--json] | show ID [--json] |
//   summary [--json] | flush|hold|release|delete|bounce (ID... | --domain D | --all)
// The daemon's address and token come from FILE (admin.listen, admin.token); --admin
// overrides the address (needed when admin.listen has port 0).
int QueueCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace sw::admin
