// Owns the choice of control store for a config: the embedded RocksDB store, or the PostgreSQL
// one shared by a cluster (`cluster.store`), and the `spamweeder migrate` command.
// Fails by Status (nullptr store) or exit status; never throws.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "control/control_store.h"
#include "control/snapshot_control_store.h"

namespace sw::control {

// `cluster.store` set: PostgresControlStore::Open (migrating the schema); else the RocksDB
// store at config::ControlStorePath. nullptr with `error` set on failure.
std::unique_ptr<ControlStore> OpenControlStore(const config::Config& config, Status* error);

// The serving node's store (`spamweeder serve`): like OpenControlStore, but in cluster mode the
// PostgreSQL store behind the node's local snapshot (SnapshotControlStore at
// ControlSnapshotPath), so that a node restarted while the database is down serves mail from
// its last copy. *snapshot is set to it (nullptr for the embedded store).
std::unique_ptr<ControlStore> OpenNodeControlStore(const config::Config& config, Status* error,
                                                   SnapshotControlStore** snapshot);
// `<control store path>-snapshot`, beside the queue.
std::string ControlSnapshotPath(const config::Config& config);

// Where the store lives, for logs: the RocksDB directory, or the URL without its password.
std::string ControlStoreLocation(const config::Config& config);

// `spamweeder migrate -c FILE`: applies the PostgreSQL schema's pending migrations and prints
// their versions (or "schema up to date"). Exit 0 ok, 1 database unreachable or failing,
// 2 usage or config error, or no cluster.store (the embedded store needs no migration).
int MigrateCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace sw::control
