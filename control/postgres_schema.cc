// Owns the PostgreSQL control store's schema: the ordered migrations, applying the pending ones
// (one transaction each, under an advisory lock so nodes starting together do not race), and
// mapping libpqxx exceptions to Status. Fails by Status; never throws.
#include "control/postgres_schema.h"

#include <algorithm>
#include <pqxx/pqxx>

#include "common/log.h"

namespace sw::control {
namespace {

// pg_advisory_xact_lock key held while migrating ("SWMIGR" in ASCII).
constexpr long long kMigrationLock = 0x53574D494752LL;

constexpr const char* kMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version int PRIMARY KEY,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

std::vector<int> AppliedVersions(pqxx::work& w) {
  std::vector<int> out;
  for (const auto& row : w.exec("SELECT version FROM schema_migrations ORDER BY version"))
    out.push_back(row[0].as<int>());
  return out;
}

bool Contains(const std::vector<int>& v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// One migration in its own transaction; false when another node applied it meanwhile.
bool ApplyOne(pqxx::connection& c, const PgMigration& m) {
  pqxx::work w(c);
  w.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
  if (Contains(AppliedVersions(w), m.version)) return false;
  w.exec(m.sql);
  w.exec_params0("INSERT INTO schema_migrations (version) VALUES ($1)", m.version);
  w.commit();
  return true;
}

}  // namespace

const std::vector<PgMigration>& PgMigrations() {
  static const std::vector<PgMigration> kAll = {
      {1,
       // Keys compare as bytes (COLLATE "C"), as RocksDB orders them; audit rows by seq.
       "CREATE TABLE records ("
       " key text COLLATE \"C\" PRIMARY KEY,"
       " json text NOT NULL);"
       "CREATE TABLE audit ("
       " seq bigint PRIMARY KEY,"
       " json text NOT NULL);"},
      {2,
       // Audit seqs handed out to every node (ReserveAuditSeqs), from the highest row on.
       "CREATE SEQUENCE audit_seq MINVALUE 0 START WITH 0;"
       "SELECT setval('audit_seq', (SELECT COALESCE(MAX(seq), 0) FROM audit));"},
      {3,
       // The change version: raised with every commit to tenant, token or domain records
       // (r/ c/ t/ d/) in its transaction, which also NOTIFYs sw_control with it; nodes
       // LISTEN and read it once a second to follow each other (ControlStore::WatchChanges).
       "CREATE TABLE control_version ("
       " id int PRIMARY KEY CHECK (id = 1),"
       " version bigint NOT NULL);"
       "INSERT INTO control_version (id, version) VALUES (1, 0);"},
      {4,
       // The change log: the keys each change version wrote, in its transaction, so a node
       // reads only what changed since the version it holds (ReadChangesSince). Old versions
       // are pruned from the front; a node behind the log's start reads everything.
       "CREATE TABLE control_changes ("
       " version bigint NOT NULL,"
       " key text COLLATE \"C\" NOT NULL,"
       " PRIMARY KEY (version, key));"},
  };
  return kAll;
}

Status MigratePostgres(const std::string& url, std::vector<int>* applied) {
  try {
    pqxx::connection c(PgUrlWithTimeout(url));
    {
      pqxx::nontransaction n(c);
      n.exec("SET client_min_messages TO warning");  // no NOTICE for IF NOT EXISTS
    }
    std::vector<int> done;
    {
      pqxx::work w(c);
      w.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
      w.exec(kMigrationsTable);
      done = AppliedVersions(w);
      w.commit();
    }
    int newest = 0;
    for (const auto& m : PgMigrations()) {
      newest = std::max(newest, m.version);
      if (Contains(done, m.version)) continue;
      if (ApplyOne(c, m)) {
        log::Info("postgres_migrated").kv("version", m.version);
        if (applied) applied->push_back(m.version);
      }
    }
    if (!done.empty() && done.back() > newest)
      log::Warn("postgres_schema_newer").kv("schema", done.back()).kv("binary", newest);
    return Status::Ok();
  } catch (const std::exception& e) {
    return PgStatus(e, "migrate");
  }
}

std::string PgUrlWithTimeout(const std::string& url) {
  std::string out = url;
  const bool uri = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
  auto add = [&](const char* key, const char* value) {
    if (url.find(key) != std::string::npos) return;  // the operator's own setting wins
    if (uri)
      out += (out.find('?') == std::string::npos ? "?" : "&");
    else
      out += " ";
    out += std::string(key) + "=" + value;
  };
  add("connect_timeout", "5");
  // A server that vanishes from the network (no RST) fails a call after 10 s, not minutes.
  add("tcp_user_timeout", "10000");
  return out;
}

bool PgConnectionLost(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) return true;
  if (const auto* s = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = s->sqlstate();
    return state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0;
  }
  return false;
}

Status PgStatus(const std::exception& e, const std::string& what) {
  std::string msg = e.what();
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  msg = "postgresql " + what + ": " + msg;
  using Code = Status::Code;
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e))
    return Status(Code::kUnavailable, msg + " (commit outcome unknown)");
  if (PgConnectionLost(e)) return Status(Code::kUnavailable, msg);
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e)) return Status(Code::kUnavailable, msg);
  if (const auto* s = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = s->sqlstate();
    if (state == "53100") return Status(Code::kNoSpace, msg);
    if (state.rfind("53", 0) == 0 || state.rfind("40", 0) == 0 || state.rfind("55", 0) == 0)
      return Status(Code::kUnavailable, msg);
    if (state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0) return Status(Code::kInvalid, msg);
    if (state == "XX001" || state == "XX002") return Status(Code::kCorrupt, msg);
  }
  if (dynamic_cast<const pqxx::conversion_error*>(&e)) return Status(Code::kCorrupt, msg);
  return Status(Code::kIoError, msg);
}

}  // namespace sw::control
