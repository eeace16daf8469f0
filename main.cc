// Owns the command line: dispatches serve, check-config, queue, domains, tokens, scan, train...
// Fails with the SPEC exit statuses: 0 ok, 1 runtime failure, 2 usage or config error.
#include <clamav.h>
#include <curl/curl.h>
#include <openssl/opensslv.h>
#include <rocksdb/version.h>

#include <boost/version.hpp>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "admin/provision_cli.h"
#include "admin/queue_cli.h"
#include "config/config.h"
#include "control/cluster_status_command.h"
#include "control/control_store_factory.h"
#include "filters/clamav_worker_main.h"
#include "gateway/daemon.h"
#include "qa/scan_command.h"
#include "qa/train_command.h"

namespace {

int Usage() {
  std::cerr << "usage: spamweeder serve -c FILE\n"
               "       spamweeder check-config -c FILE\n"
               "       spamweeder queue -c FILE list|show|summary|flush|hold|release|delete|bounce"
               " ...\n"
               "       spamweeder domains -c FILE list|show|add|set|delete ...\n"
               "       spamweeder tokens -c FILE create|list|revoke ...\n"
               "       spamweeder migrate -c FILE\n"
               "       spamweeder cluster status -c FILE [--json]\n"
               "       spamweeder scan [-c FILE] [--domain D] [--label spam|ham] [--jobs N]"
               " [--format text|json|csv] [--report FILE.html] PATH...\n"
               "       spamweeder train -c FILE --spam PATH --ham PATH [--controller URL]\n"
               "       spamweeder version\n";
  return 2;
}

// Finds `-c FILE` (or --config FILE) in args.
bool ConfigArg(const std::vector<std::string>& args, std::string* path) {
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "-c" || args[i] == "--config") {
      *path = args[i + 1];
      return true;
    }
  return false;
}

int CheckConfig(const std::string& path) {
  try {
    auto cfg = sw::config::LoadConfig(path);
    std::cout << sw::config::Summarize(cfg);
    return 0;
  } catch (const sw::config::ConfigError& e) {
    for (const auto& p : e.problems()) std::cerr << p << "\n";
    return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage();
  const std::string cmd = args[0];
  if (cmd == "version" || cmd == "--version") {
    std::cout << "spamweeder " << SW_VERSION << "\n"
              << "boost " << BOOST_LIB_VERSION << ", " << OPENSSL_VERSION_TEXT << ", rocksdb "
              << ROCKSDB_MAJOR << "." << ROCKSDB_MINOR << "." << ROCKSDB_PATCH << ", "
              << curl_version() << ", libclamav " << cl_retver() << "\n";
    return 0;
  }
  // Internal: started by the gateway itself for sandboxed ClamAV scanning (fd 3 is its socket).
  if (cmd == "clamav-worker") return sw::filters::ClamavWorkerMain({args.begin() + 1, args.end()});
  std::string path;
  if (cmd == "serve") {
    if (!ConfigArg(args, &path)) return Usage();
    return sw::gateway::Serve(path);
  }
  if (cmd == "scan")
    return sw::qa::ScanCommand({args.begin() + 1, args.end()}, std::cout, std::cerr);
  if (cmd == "train")
    return sw::qa::TrainCommand({args.begin() + 1, args.end()}, std::cout, std::cerr);
  if (cmd == "queue")
    return sw::admin::QueueCommand({args.begin() + 1, args.end()}, std::cout, std::cerr);
  if (cmd == "domains" || cmd == "tokens")
    return sw::admin::ProvisionCommand(cmd, {args.begin() + 1, args.end()}, std::cout, std::cerr);
  if (cmd == "migrate")
    return sw::control::MigrateCommand({args.begin() + 1, args.end()}, std::cout, std::cerr);
  if (cmd == "cluster")
    return sw::control::ClusterCommand({args.begin() + 1, args.end()}, std::cout, std::cerr);
  if (cmd == "check-config") {
    if (!ConfigArg(args, &path)) return Usage();
    return CheckConfig(path);
  }
  return Usage();
}
