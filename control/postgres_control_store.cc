// Owns the PostgreSQL ControlStore (SPEC section 13): records and audit rows in one database
// shared by every node, each commit one transaction, the schema migrated at Open. Fails by
// Status (server lost or unreachable -> kUnavailable, then reconnects on the next call).
#include "control/postgres_control_store.h"

#include <limits>
#include <pqxx/pqxx>
#include <set>

#include "common/log.h"
#include "control/postgres_change_watcher.h"
#include "control/postgres_schema.h"

namespace sw::control {

// One server connection with the store's statements prepared on it.
struct PostgresControlStore::Conn {
  explicit Conn(const std::string& url) : c(url) {
    {
      pqxx::nontransaction n(c);
      n.exec("SET client_min_messages TO warning");
    }
    c.prepare("sw_get", "SELECT json FROM records WHERE key = $1");
    c.prepare("sw_exists", "SELECT 1 FROM records WHERE key = $1");
    c.prepare("sw_put",
              "INSERT INTO records (key, json) VALUES ($1, $2) "
              "ON CONFLICT (key) DO UPDATE SET json = EXCLUDED.json");
    c.prepare("sw_del", "DELETE FROM records WHERE key = $1");
    c.prepare("sw_update", "UPDATE records SET json = $2 WHERE key = $1");
    c.prepare("sw_audit", "INSERT INTO audit (seq, json) VALUES ($1, $2)");
    c.prepare("sw_audit_page", "SELECT seq, json FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2");
    c.prepare("sw_audit_page_desc",
              "SELECT seq, json FROM audit WHERE seq < $1 ORDER BY seq DESC LIMIT $2");
    c.prepare("sw_last_seq", "SELECT COALESCE(MAX(seq), 0) FROM audit");
    // Two-key advisory lock: classid "SWg" apart from single-key locks (migrations).
    c.prepare("sw_guard_lock", "SELECT pg_advisory_xact_lock(5461863, hashtext($1))");
    // Audit seq blocks: classid "SWs", apart from the guards' locks.
    c.prepare("sw_seq_lock", "SELECT pg_advisory_xact_lock(5461875, 0)");
    c.prepare("sw_seq_high",
              "SELECT GREATEST((SELECT last_value FROM audit_seq),"
              " (SELECT COALESCE(MAX(seq), 0) FROM audit))");
    c.prepare("sw_seq_set", "SELECT setval('audit_seq', $1)");
    // Migration 3: the change version, raised and announced in the writing transaction (the
    // row lock orders writers: versions are handed out in commit order).
    c.prepare("sw_bump",
              "WITH v AS (UPDATE control_version SET version = version + 1 WHERE id = 1"
              " RETURNING version)"
              " SELECT version, pg_notify('sw_control', version::text) FROM v");
    c.prepare("sw_version", "SELECT version FROM control_version WHERE id = 1");
    // Migration 4: the change log, written with each version, pruned from its front.
    c.prepare("sw_log", "INSERT INTO control_changes (version, key) VALUES ($1, $2)");
    c.prepare("sw_log_prune", "DELETE FROM control_changes WHERE version <= $1");
    c.prepare("sw_log_first", "SELECT MIN(version) FROM control_changes");
    c.prepare("sw_log_since",
              "SELECT c.key, r.json FROM (SELECT DISTINCT key FROM control_changes"
              " WHERE version > $1 AND version <= $2) c"
              " LEFT JOIN records r ON r.key = c.key ORDER BY c.key");
  }
  pqxx::connection c;
};

namespace {

// The least key above every key that starts with `prefix`, or "" when there is none that is
// valid UTF-8 by a simple increment (a non-ASCII last byte): the scan then stops on the first
// key past the prefix instead.
std::string PrefixEnd(const std::string& prefix) {
  if (prefix.empty()) return "";
  auto last = static_cast<unsigned char>(prefix.back());
  if (last >= 0x7F) return "";
  std::string end = prefix;
  end.back() = static_cast<char>(last + 1);
  return end;
}

// Tenant, token and domain records: what other nodes hold in memory and follow.
bool Watched(const std::string& key) {
  return key.size() >= 2 && key[1] == '/' &&
         (key[0] == 'r' || key[0] == 'c' || key[0] == 't' || key[0] == 'd');
}

// Puts, then deletes, then audit rows: the order of the embedded store's WriteBatch. Returns
// the new change version when a watched record is written (0 when none is); the keys it
// wrote go to the change log under that version, and versions `keep` or more below it leave.
uint64_t ApplyChanges(pqxx::work& w, const ChangeSet& changes, uint64_t keep) {
  std::set<std::string> watched;
  for (const auto& p : changes.puts) {
    w.exec_prepared0("sw_put", p.key, p.json);
    if (Watched(p.key)) watched.insert(p.key);
  }
  for (const auto& k : changes.deletes) {
    w.exec_prepared0("sw_del", k);
    if (Watched(k)) watched.insert(k);
  }
  for (const auto& a : changes.audit)
    w.exec_prepared0("sw_audit", static_cast<long long>(a.seq), a.json);
  if (watched.empty()) return 0;
  auto version = w.exec_prepared1("sw_bump")[0].as<long long>();
  for (const auto& k : watched) w.exec_prepared0("sw_log", version, k);
  if (version > static_cast<long long>(keep))
    w.exec_prepared0("sw_log_prune", version - static_cast<long long>(keep));
  return static_cast<uint64_t>(version);
}

}  // namespace

PostgresControlStore::PostgresControlStore(std::string url) : url_(std::move(url)) {}

PostgresControlStore::~PostgresControlStore() { StopWatching(); }

std::unique_ptr<PostgresControlStore> PostgresControlStore::Open(const std::string& url,
                                                                 Status* error) {
  Status st = MigratePostgres(url, nullptr);
  if (!st.ok()) {
    *error = st;
    return nullptr;
  }
  return Connect(url, error);
}

std::unique_ptr<PostgresControlStore> PostgresControlStore::Connect(const std::string& url,
                                                                    Status* error) {
  std::unique_ptr<PostgresControlStore> store(new PostgresControlStore(url));
  Status st = store->Run("connect", [](Conn&) {});
  if (!st.ok()) {
    *error = st;
    return nullptr;
  }
  return store;
}

Status PostgresControlStore::Run(const char* what, const std::function<void(Conn&)>& fn) {
  // While the watch finds the server down, fail at once: no caller waits for a connect
  // timeout (the SMTP thread among them); the watch retries every second.
  if (down_.load(std::memory_order_acquire))
    return Status(Status::Code::kUnavailable,
                  std::string("postgresql ") + what + ": control store unavailable");
  std::lock_guard lock(mu_);
  for (int attempt = 0;; ++attempt) {
    bool fresh = !conn_;
    try {
      if (!conn_) conn_ = std::make_unique<Conn>(PgUrlWithTimeout(url_));
      fn(*conn_);
      return Status::Ok();
    } catch (const std::exception& e) {
      bool lost = PgConnectionLost(e) || !conn_ || !conn_->c.is_open();
      if (lost) conn_.reset();  // the next call connects afresh
      // A connection that died while idle (server restarted) gets one more try on a new
      // one; an in-doubt commit never does (PgConnectionLost is false for it).
      if (lost && !fresh && attempt == 0 && PgConnectionLost(e)) continue;
      return PgStatus(e, what);
    }
  }
}

Status PostgresControlStore::FetchRecords(const std::string& from, bool inclusive,
                                          const std::string& upper, Rows* rows) {
  std::string sql =
      std::string("SELECT key, json FROM records WHERE key ") + (inclusive ? ">=" : ">") + " $1";
  if (!upper.empty()) sql += " AND key < $2";
  sql += " ORDER BY key LIMIT " + std::to_string(page_rows_);
  return Run("scan", [&](Conn& c) {
    rows->clear();
    pqxx::nontransaction t(c.c);
    pqxx::result r = upper.empty() ? t.exec_params(sql, from) : t.exec_params(sql, from, upper);
    for (const auto& row : r)
      rows->emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
  });
}

Status PostgresControlStore::ScanPrefix(
    const std::string& prefix,
    const std::function<bool(const std::string&, const std::string&)>& fn) {
  const std::string upper = PrefixEnd(prefix);
  const size_t page = page_rows_;
  std::string from = prefix;
  bool inclusive = true;
  Rows rows;
  for (;;) {
    Status st = FetchRecords(from, inclusive, upper, &rows);
    if (!st.ok()) return st;
    for (const auto& [key, json] : rows) {
      if (key.compare(0, prefix.size(), prefix) != 0) return Status::Ok();
      if (!fn(key, json)) return Status::Ok();
    }
    if (rows.size() < page) return Status::Ok();
    from = rows.back().first;
    inclusive = false;
  }
}

Status PostgresControlStore::Get(const std::string& key, std::string* json) {
  bool found = false;
  Status st = Run("get", [&](Conn& c) {
    pqxx::nontransaction t(c.c);
    pqxx::result r = t.exec_prepared("sw_get", key);
    found = !r.empty();
    if (found) *json = r[0][0].as<std::string>();
  });
  if (!st.ok()) return st;
  return found ? Status::Ok() : Status(Status::Code::kNotFound, "no record " + key);
}

Status PostgresControlStore::Commit(const ChangeSet& changes) {
  uint64_t version = 0;
  return CommitVersioned(changes, &version);
}

Status PostgresControlStore::CommitVersioned(const ChangeSet& changes, uint64_t* version) {
  *version = 0;
  if (changes.empty()) return Status::Ok();
  uint64_t made = 0;
  Status st = Run("commit", [&](Conn& c) {
    pqxx::work w(c.c);
    made = ApplyChanges(w, changes, change_log_keep_);
    w.commit();
  });
  if (st.ok()) *version = made;
  return st;
}

Status PostgresControlStore::ChangeVersion(uint64_t* version) {
  long long v = 0;
  Status st = Run("change_version", [&](Conn& c) {
    pqxx::nontransaction t(c.c);
    v = t.exec_prepared1("sw_version")[0].as<long long>();
  });
  *version = st.ok() ? static_cast<uint64_t>(v) : 0;
  return st;
}

Status PostgresControlStore::ReadChangesSince(uint64_t after, uint64_t* version,
                                              std::vector<RecordChange>* out, bool* complete) {
  *version = 0;
  *complete = false;
  out->clear();
  return Run("read_changes", [&](Conn& c) {
    out->clear();
    *complete = false;
    // One snapshot: the version, the log's start and the records agree (versions are handed
    // out in commit order under control_version's row lock).
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> t(c.c);
    auto now = t.exec_prepared1("sw_version")[0].as<long long>();
    *version = static_cast<uint64_t>(now);
    if (static_cast<uint64_t>(now) <= after) {
      *complete = true;
      return;
    }
    pqxx::row first = t.exec_prepared1("sw_log_first");
    // Every version writes at least one log row and pruning takes the front only, so the log
    // covers (after, now] exactly when it starts at or before after + 1.
    if (first[0].is_null() || static_cast<uint64_t>(first[0].as<long long>()) > after + 1) return;
    for (const auto& row : t.exec_prepared("sw_log_since", static_cast<long long>(after), now)) {
      RecordChange ch;
      ch.key = row[0].as<std::string>();
      ch.deleted = row[1].is_null();
      if (!ch.deleted) ch.json = row[1].as<std::string>();
      out->push_back(std::move(ch));
    }
    t.commit();
    *complete = true;
  });
}

bool PostgresControlStore::WatchChanges(std::function<void(const WatchEvent&)> fn) {
  StopWatching();
  watcher_ = std::make_unique<PgChangeWatcher>(url_, [this, fn](const WatchEvent& e) {
    down_.store(!e.up, std::memory_order_release);
    fn(e);
  });
  return true;
}

void PostgresControlStore::StopWatching() {
  watcher_.reset();
  down_.store(false, std::memory_order_release);
}

Status PostgresControlStore::CommitIfAbsent(const std::string& guard, const ChangeSet& changes,
                                            bool* applied) {
  *applied = false;
  return Run("commit_if_absent", [&](Conn& c) {
    *applied = false;
    pqxx::work w(c.c);
    // Held to the transaction's end: the next statement's snapshot sees any winner's commit.
    w.exec_prepared("sw_guard_lock", guard);
    if (!w.exec_prepared("sw_exists", guard).empty()) return;  // rolled back by ~work
    ApplyChanges(w, changes, change_log_keep_);
    w.commit();
    *applied = true;
  });
}

Status PostgresControlStore::PutUnsynced(const std::vector<RecordPut>& puts) {
  if (puts.empty()) return Status::Ok();
  return Run("put_unsynced", [&](Conn& c) {
    pqxx::work w(c.c);
    w.exec("SET LOCAL synchronous_commit TO off");
    for (const auto& p : puts) w.exec_prepared0("sw_put", p.key, p.json);
    w.commit();
  });
}

Status PostgresControlStore::UpdateUnsynced(const std::vector<RecordPut>& puts) {
  if (puts.empty()) return Status::Ok();
  return Run("update_unsynced", [&](Conn& c) {
    pqxx::work w(c.c);
    w.exec("SET LOCAL synchronous_commit TO off");
    for (const auto& p : puts) w.exec_prepared0("sw_update", p.key, p.json);
    w.commit();
  });
}

Status PostgresControlStore::ReadAudit(AuditCursor from, size_t limit,
                                       const std::function<bool(const std::string&)>& keep,
                                       std::vector<AuditRow>* out) {
  const size_t page = page_rows_;
  // Newest first from 0: below every seq (a bigint).
  long long after = from.newest_first && from.seq == 0 ? std::numeric_limits<long long>::max()
                                                       : static_cast<long long>(from.seq);
  std::vector<AuditRow> rows;
  while (out->size() < limit) {
    Status st = Run("read_audit", [&](Conn& c) {
      rows.clear();
      pqxx::nontransaction t(c.c);
      pqxx::result r = t.exec_prepared(from.newest_first ? "sw_audit_page_desc" : "sw_audit_page",
                                       after, static_cast<long long>(page));
      for (const auto& row : r)
        rows.push_back({static_cast<uint64_t>(row[0].as<long long>()), row[1].as<std::string>()});
    });
    if (!st.ok()) return st;
    if (!rows.empty()) after = static_cast<long long>(rows.back().seq);
    for (auto& row : rows) {
      if (out->size() >= limit) break;
      if (keep(row.json)) out->push_back(std::move(row));
    }
    if (rows.size() < page) break;
  }
  return Status::Ok();
}

uint64_t PostgresControlStore::LastAuditSeq() {
  long long seq = 0;
  Status st = Run("last_audit_seq", [&](Conn& c) {
    pqxx::nontransaction t(c.c);
    seq = t.exec_prepared1("sw_last_seq")[0].as<long long>();
  });
  if (!st.ok()) {
    log::Error("control_store_failed").kv("op", "last_audit_seq").kv("detail", st.message());
    return 0;
  }
  return static_cast<uint64_t>(seq);
}

Status PostgresControlStore::ReserveAuditSeqs(size_t n, uint64_t* first) {
  long long high = 0;
  Status st = Run("reserve_audit_seqs", [&](Conn& c) {
    pqxx::work w(c.c);
    w.exec_prepared("sw_seq_lock");
    high = w.exec_prepared1("sw_seq_high")[0].as<long long>();
    w.exec_prepared("sw_seq_set", high + static_cast<long long>(n));  // not transactional
    w.commit();
  });
  if (st.ok()) *first = static_cast<uint64_t>(high) + 1;
  return st;
}

}  // namespace sw::control
