// Owns the PostgreSQL ControlStore (SPEC section 13): records and audit rows in one database
// shared by every node, each commit one transaction, the schema migrated at Open. Fails by
// Status (server lost or unreachable -> kUnavailable, then reconnects on the next call).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "control/control_store.h"

namespace sw::control {

// Thread-safe: one connection behind a mutex, so calls run one at a time (a ScanPrefix or
// ReadAudit holds it only while fetching a page, never while calling back). A scan pages
// through the table (keyset pagination, page_rows() rows a query): each page is consistent,
// the whole scan is not one snapshot. Keys and JSON must be valid UTF-8 without NUL bytes
// (kInvalid otherwise). Commit uses the server's synchronous_commit (on by default);
// PutUnsynced turns it off for its transaction. CommitIfAbsent holds a transaction-scoped
// advisory lock on the guard, so it is atomic against CommitIfAbsent on any node. Audit seqs
// are never overwritten: a seq already taken fails the commit (kInvalid), nothing applied.
class PgChangeWatcher;

// The change version (migration 3) is raised by every commit that writes a tenant, token or
// domain record, and NOTIFYs sw_control in the same transaction; WatchChanges follows it on a
// connection of its own (PgChangeWatcher). While the watch finds the server down, every call
// fails at once with kUnavailable instead of waiting for a connection.
class PostgresControlStore : public ControlStore {
 public:
  // Connects to `url` (postgresql://user@host:port/db or key=value form), applies pending
  // migrations; nullptr with `error` set on failure.
  static std::unique_ptr<PostgresControlStore> Open(const std::string& url, Status* error);
  // Like Open without migrating (read-only commands such as `spamweeder cluster status`).
  static std::unique_ptr<PostgresControlStore> Connect(const std::string& url, Status* error);
  ~PostgresControlStore() override;

  Status ScanPrefix(const std::string& prefix,
                    const std::function<bool(const std::string&, const std::string&)>& fn) override;
  Status Get(const std::string& key, std::string* json) override;
  Status Commit(const ChangeSet& changes) override;
  Status CommitIfAbsent(const std::string& guard, const ChangeSet& changes, bool* applied) override;
  Status PutUnsynced(const std::vector<RecordPut>& puts) override;
  Status UpdateUnsynced(const std::vector<RecordPut>& puts) override;
  Status ReadAudit(AuditCursor from, size_t limit,
                   const std::function<bool(const std::string&)>& keep,
                   std::vector<AuditRow>* out) override;
  // 0 when the server cannot be asked (logged).
  uint64_t LastAuditSeq() override;
  // From the sequence audit_seq (migration 2), moved past the highest committed seq too, under
  // an advisory lock: a block of `n` consecutive seqs no other node or instance gets.
  Status ReserveAuditSeqs(size_t n, uint64_t* first) override;
  Status CommitVersioned(const ChangeSet& changes, uint64_t* version) override;
  Status ChangeVersion(uint64_t* version) override;
  // From the change log (migration 4): each versioned commit logs the keys it wrote; the
  // versions `change_log_keep()` or more below the newest are pruned.
  Status ReadChangesSince(uint64_t after, uint64_t* version, std::vector<RecordChange>* out,
                          bool* complete) override;
  bool WatchChanges(std::function<void(const WatchEvent&)> fn) override;
  void StopWatching() override;

  size_t page_rows() const { return page_rows_; }
  void set_page_rows(size_t n) { page_rows_ = n > 0 ? n : 1; }  // tests use small pages

  uint64_t change_log_keep() const { return change_log_keep_; }
  void set_change_log_keep(uint64_t n) { change_log_keep_ = n > 0 ? n : 1; }  // tests

  struct Conn;  // the libpqxx connection (kept out of this header)

 private:
  explicit PostgresControlStore(std::string url);
  // Runs `fn` on the connection under the mutex, connecting first when there is none; a
  // connection found dead is replaced and `fn` run once more. Exceptions become Status.
  Status Run(const char* what, const std::function<void(Conn&)>& fn);
  using Rows = std::vector<std::pair<std::string, std::string>>;
  Status FetchRecords(const std::string& from, bool inclusive, const std::string& upper,
                      Rows* rows);

  std::string url_;
  size_t page_rows_ = 10000;
  std::atomic<uint64_t> change_log_keep_{100000};  // versions kept in the change log
  std::mutex mu_;
  std::unique_ptr<Conn> conn_;                // null until connected and after a lost connection
  std::atomic<bool> down_{false};             // the watch's view: the server does not answer
  std::unique_ptr<PgChangeWatcher> watcher_;  // while watching
};

}  // namespace sw::control
