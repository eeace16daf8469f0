// Owns the choice of control store for a config: the embedded RocksDB store, or the PostgreSQL
// one shared by a cluster (`cluster.store`), and the `spamweeder migrate` command.
// Fails by Status (nullptr store) or exit status; never throws.
#include "control/control_store_factory.h"

#include <chrono>
#include <ostream>

#include "control/postgres_control_store.h"
#include "control/postgres_schema.h"
#include "control/rocksdb_control_store.h"

namespace sw::control {

std::unique_ptr<ControlStore> OpenControlStore(const config::Config& config, Status* error) {
  if (!config.cluster.store.empty()) return PostgresControlStore::Open(config.cluster.store, error);
  return RocksDbControlStore::Open(config::ControlStorePath(config), error);
}

std::string ControlSnapshotPath(const config::Config& config) {
  return config::ControlStorePath(config) + "-snapshot";
}

std::unique_ptr<ControlStore> OpenNodeControlStore(const config::Config& config, Status* error,
                                                   SnapshotControlStore** snapshot) {
  *snapshot = nullptr;
  if (config.cluster.store.empty()) return OpenControlStore(config, error);
  std::string url = config.cluster.store;
  auto s = SnapshotControlStore::Open(
      ControlSnapshotPath(config),
      [url](Status* e) -> std::unique_ptr<ControlStore> {
        return PostgresControlStore::Open(url, e);
      },
      std::chrono::seconds(1), error);
  *snapshot = s.get();
  return s;
}

std::string ControlStoreLocation(const config::Config& config) {
  const std::string& url = config.cluster.store;
  if (url.empty()) return config::ControlStorePath(config);
  size_t scheme = url.find("://");
  size_t at = url.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  size_t colon = url.find(':', scheme == std::string::npos ? 0 : scheme + 3);
  if (at == std::string::npos || colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + ":***" + url.substr(at);  // user:password@ -> user:***@
}

int MigrateCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  constexpr int kOk = 0, kFailed = 1, kUsage = 2;
  if (args.size() != 2 || (args[0] != "-c" && args[0] != "--config")) {
    err << "usage: spamweeder migrate -c FILE\n";
    return kUsage;
  }
  config::Config config;
  try {
    config = config::LoadConfig(args[1]);
  } catch (const config::ConfigError& e) {
    for (const auto& p : e.problems()) err << p << "\n";
    return kUsage;
  }
  if (config.cluster.store.empty()) {
    err << args[1] << ": nothing to migrate: the embedded store needs no migration"
        << " (cluster.store is not set)\n";
    return kUsage;
  }
  std::vector<int> applied;
  Status st = MigratePostgres(config.cluster.store, &applied);
  if (!st.ok()) {
    err << "migrate " << ControlStoreLocation(config) << ": " << st.message() << "\n";
    return kFailed;
  }
  if (applied.empty()) out << "schema up to date\n";
  for (int v : applied) out << "applied migration " << v << "\n";
  return kOk;
}

}  // namespace sw::control
