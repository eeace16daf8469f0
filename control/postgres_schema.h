// Owns the PostgreSQL control store's schema: the ordered migrations, applying the pending ones
// (one transaction each, under an advisory lock so nodes starting together do not race), and
// mapping libpqxx exceptions to Status. Fails by Status; never throws.
#pragma once

#include <exception>
#include <string>
#include <vector>

#include "common/status.h"

namespace sw::control {

struct PgMigration {
  int version;      // applied in ascending order, recorded in schema_migrations
  const char* sql;  // one or more statements, run in the migration's transaction
};

// Every migration this binary knows, oldest first. Append only: never edit a released one.
const std::vector<PgMigration>& PgMigrations();

// Connects to `url` and applies the pending migrations; `applied` (may be null) gets the
// versions applied by this call (empty when the schema was current). For `spamweeder migrate`;
// PostgresControlStore::Open calls it too.
Status MigratePostgres(const std::string& url, std::vector<int>* applied);

// `url` with connect_timeout=5 and tcp_user_timeout=10000 added when it names them not (URI
// or key=value form), so an unreachable server fails the call instead of hanging it.
std::string PgUrlWithTimeout(const std::string& url);

// The Status for an exception thrown by libpqxx (or anything else): a lost or refused
// connection, a server shutting down, a conflict to retry -> kUnavailable; disk full ->
// kNoSpace; bad data or a constraint -> kInvalid; data corruption -> kCorrupt; else kIoError.
Status PgStatus(const std::exception& e, const std::string& what);

// True when `e` says the connection is gone (so a fresh one may succeed) and no commit can
// have happened (an in-doubt commit is not one of these).
bool PgConnectionLost(const std::exception& e);

}  // namespace sw::control
