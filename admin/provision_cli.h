// Owns the `spamweeder domains` and `spamweeder tokens` commands: a client of the provisioning API.
// Fails by exit status: 0 ok, 1 daemon unreachable or API error, 2 usage or config error.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sw::admin {

// One API call, built from the command line alone (no server, no config needed).
struct ProvisionRequest {
  std::string method;  // GET, POST, PATCH, DELETE
  std::string target;  // e.g. /api/v1/domains/x.test
  std::string body;    // compact JSON text; "" when the call sends none
};

// What the words after `domains` or `tokens` ask for.
struct ProvisionArgs {
  std::string config_path;  // -c FILE; may be empty when --admin is given
  std::string admin;        // --admin IP:PORT
  std::string token;        // --token TOKEN (SW_TOKEN is read by ProvisionCommand)
  std::string command;      // list, show, add, set, delete | create, list, revoke
  std::string object;       // the NAME or ID the command acts on ("" for list, create)
  bool json = false;        // --json: print the API's JSON instead of a table
  bool help = false;        // -h/--help: print the usage, nothing else was checked
  ProvisionRequest request;
};

// Parses `args` for `group` ("domains" or "tokens") into *out. Returns "" when they parsed,
// otherwise the usage problem. Pure: reads no file, environment or network.
//   domains list [--search S] | show NAME | delete NAME
//   domains add NAME --dest D [--dest D2 ...] [--customer ID] [--filtering on|off]
//               [--tag-score X] [--reject-score X] [--subject-tag T] [--virus V]
//               [--tls opportunistic|required|verify]
//   domains set NAME [the add options] [--version N]   (PATCH with only the given keys)
//   tokens create --account ID --role admin|read [--name N] | list | revoke ID
// Global: -c FILE, --admin IP:PORT, --token TOKEN, --json (list, show, add, set, create).
std::string ParseProvisionArgs(std::string_view group, const std::vector<std::string>& args,
                               ProvisionArgs* out);

// The usage text of `group`.
std::string ProvisionUsage(std::string_view group);

// Runs `spamweeder <group> args...`. The daemon's address and the operator token come from the
// config (admin.listen, admin.token); --admin overrides the address, --token (else the SW_TOKEN
// environment variable) the token. Without -c, --admin and a token are required.
int ProvisionCommand(std::string_view group, const std::vector<std::string>& args,
                     std::ostream& out, std::ostream& err);

}  // namespace sw::admin
