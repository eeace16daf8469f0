// Owns what the PostgreSQL control-store tests share: the URL of the ctest run's cluster (the
// postgres fixture), one database per test directory, and private clusters for tests that stop
// their server. Fails by returning empty/nullptr with the reason (tests turn it into a failure).
#pragma once

#include <memory>
#include <string>

#include "control/postgres_control_store.h"

namespace sw::control::pgtest {

// The fixture cluster's URL: $SW_TEST_POSTGRES_URL, else the URL file that
// tests/fixtures/postgres-fixture.sh wrote for this build; "" with `why` when there is none.
std::string ClusterUrl(std::string* why);

// `url` with its database name replaced by `db`.
std::string UrlForDatabase(const std::string& url, const std::string& db);

// Drops and creates database `db` on the fixture cluster; its URL, or "" with `why`.
std::string FreshDatabase(const std::string& db, std::string* why);

// The contract suite's factory: the database named after `dir`, created afresh when `dir`
// holds no marker yet (a new test) and reopened when it does (Reopen). Adds a test failure
// with the reason and returns nullptr when it cannot.
std::unique_ptr<ControlStore> OpenForDir(const std::string& dir);

// A cluster of its own (tests/fixtures/postgres-fixture.sh under a temp state dir), for a
// test that stops and restarts the server. Destroyed with the object.
class PrivateCluster {
 public:
  PrivateCluster();
  ~PrivateCluster();
  PrivateCluster(const PrivateCluster&) = delete;
  PrivateCluster& operator=(const PrivateCluster&) = delete;
  bool Start(std::string* why);  // first call: a new cluster; later: the same data and port
  bool Stop(std::string* why);
  std::string url() const;

 private:
  bool RunScript(const char* cmd, std::string* why);
  std::string state_;
};

}  // namespace sw::control::pgtest
