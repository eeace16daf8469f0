// Owns what the PostgreSQL control-store tests share: the URL of the ctest run's cluster (the
// postgres fixture), one database per test directory, and private clusters for tests that stop
// their server. Fails by returning empty/nullptr with the reason (tests turn it into a failure).
#include "tests/control/postgres_test_support.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

namespace sw::control::pgtest {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// "sw_" + the directory's name in [a-z0-9_], at most 63 bytes (PostgreSQL's limit).
std::string DatabaseFor(const std::string& dir) {
  std::string name = "sw_";
  for (char ch : fs::path(dir).filename().string())
    name += std::isalnum(static_cast<unsigned char>(ch))
                ? static_cast<char>(std::tolower(static_cast<unsigned char>(ch)))
                : '_';
  return name.substr(0, 63);
}

}  // namespace

std::string ClusterUrl(std::string* why) {
  if (const char* env = std::getenv("SW_TEST_POSTGRES_URL"); env && *env) return env;
  fs::path file = fs::path(SW_PG_STATE_DIR) / "url";
  std::string url = fs::exists(file) ? ReadFile(file) : "";
  if (url.empty())
    *why = "no PostgreSQL for the tests: " + file.string() +
           " is missing (the ctest fixture postgres_start did not run or failed; run these "
           "tests through ctest, or set SW_TEST_POSTGRES_URL)";
  return url;
}

std::string UrlForDatabase(const std::string& url, const std::string& db) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return url + "/" + db;
  size_t query = url.find('?', slash);
  return url.substr(0, slash + 1) + db + (query == std::string::npos ? "" : url.substr(query));
}

std::string FreshDatabase(const std::string& db, std::string* why) {
  std::string url = ClusterUrl(why);
  if (url.empty()) return "";
  try {
    pqxx::connection c(url);
    pqxx::nontransaction n(c);
    n.exec("SET client_min_messages TO warning");
    n.exec("DROP DATABASE IF EXISTS " + n.quote_name(db));
    n.exec("CREATE DATABASE " + n.quote_name(db));
  } catch (const std::exception& e) {
    *why = "cannot create database " + db + " on " + url + ": " + e.what();
    return "";
  }
  return UrlForDatabase(url, db);
}

std::unique_ptr<ControlStore> OpenForDir(const std::string& dir) {
  std::string why;
  fs::path marker = fs::path(dir) / "postgres-url";
  std::string url;
  if (fs::exists(marker)) {
    url = ReadFile(marker);
  } else {
    url = FreshDatabase(DatabaseFor(dir), &why);
    if (url.empty()) {
      ADD_FAILURE() << why;
      return nullptr;
    }
    fs::create_directories(dir);
    std::ofstream(marker) << url << "\n";
  }
  Status st;
  auto store = PostgresControlStore::Open(url, &st);
  if (!store) ADD_FAILURE() << "PostgresControlStore::Open(" << url << "): " << st.message();
  return store;
}

PrivateCluster::PrivateCluster()
    : state_((fs::temp_directory_path() / ("sw-pgpriv-" + std::to_string(::getpid()))).string()) {}

PrivateCluster::~PrivateCluster() {
  std::string why;
  RunScript("destroy", &why);
  std::error_code ec;
  fs::remove_all(state_, ec);
  fs::remove(state_ + ".log", ec);
}

bool PrivateCluster::RunScript(const char* cmd, std::string* why) {
  std::string log = state_ + ".log";
  std::string line = std::string("sh '") + SW_PG_FIXTURE_SCRIPT + "' " + cmd + " '" + state_ +
                     "' >'" + log + "' 2>&1";
  int rc = std::system(line.c_str());
  if (rc == 0) return true;
  *why = std::string("postgres-fixture.sh ") + cmd + " failed (" + std::to_string(rc) +
         "): " + ReadFile(log);
  return false;
}

bool PrivateCluster::Start(std::string* why) { return RunScript("start", why); }

bool PrivateCluster::Stop(std::string* why) { return RunScript("stop", why); }

std::string PrivateCluster::url() const { return ReadFile(fs::path(state_) / "url"); }

}  // namespace sw::control::pgtest
