// Tests sandboxed ClamAV scanning with the real `spamweeder clamav-worker` and a sigtool-built
// database: verdicts, confinement, a killed or hung worker costing one scan, reloads reaching
// every worker, the supervisor restarted. Fails with an assertion.
#include "filters/clamav_worker_pool.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "filters/clamav_sandbox.h"

namespace sw::filters {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kEicar =
    R"(X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*)";

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The value of `key:` in /proc/<pid>/status ("" when absent).
std::string ProcStatus(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    size_t v = line.find_first_not_of(" \t", key.size() + 1);
    return v == std::string::npos ? "" : line.substr(v);
  }
  return "";
}

pid_t ParentOf(pid_t pid) { return std::atoi(ProcStatus(pid, "PPid").c_str()); }

template <typename F>
bool WaitFor(F&& ok, std::chrono::milliseconds limit = 20s) {
  auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (ok()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return ok();
}

class ClamavWorkerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw-clamav-pool-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = dir_ + "/db";
    std::string cmd = "sh " + std::string(SW_SOURCE_DIR) + "/tests/fixtures/make-clamav-db.sh " +
                      db_ + " >" + dir_ + "/build.log 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << Read(dir_ + "/build.log");
  }
  void TearDown() override {
    pool_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  ClamavWorkerOptions Options(unsigned workers) {
    ClamavWorkerOptions o;
    o.program = SW_BINARY;
    o.clamav = {db_, dir_, 100ms};
    o.workers = workers;
    o.timeout = 10s;
    o.memory = 2ULL << 30;
    return o;
  }
  void Start(const ClamavWorkerOptions& o) {
    std::string error;
    pool_ = ClamavWorkerPool::Start(o, &error);
    ASSERT_TRUE(pool_) << error;
    ASSERT_TRUE(WaitFor([&] { return pool_->WorkerPids().size() == o.workers; }));
  }
  std::string dir_, db_;
  std::unique_ptr<ClamavWorkerPool> pool_;
};

TEST_F(ClamavWorkerPoolTest, ScansInConfinedWorkersThatShareOneDatabaseLoad) {
  Start(Options(2));
  ClamavScan virus = pool_->Scan("Subject: x\r\n\r\n" + kEicar + "\r\n", "Q1");
  ASSERT_TRUE(virus.ok) << virus.error;
  EXPECT_NE(virus.virus.find("Eicar"), std::string::npos) << virus.virus;
  ClamavScan clean = pool_->Scan("Subject: hello\r\n\r\nnothing here\r\n", "Q2");
  ASSERT_TRUE(clean.ok) << clean.error;
  EXPECT_EQ(clean.virus, "");
  // Over kMaxInline: the sealed-memfd path (EICAR at the end of a 1 MiB message).
  std::string big = "Subject: big\r\n\r\n" + std::string(1 << 20, 'a') + "\r\n" + kEicar + "\r\n";
  ClamavScan large = pool_->Scan(big, "QBIG");
  ASSERT_TRUE(large.ok) << large.error;
  EXPECT_NE(large.virus, "");
  ClamavScan empty = pool_->Scan("", "Q3");
  EXPECT_TRUE(empty.ok) << empty.error;
  EXPECT_GT(pool_->signatures(), 0u);
  pid_t supervisor = pool_->supervisor_pid();
  EXPECT_EQ(ParentOf(supervisor), getpid());
  for (pid_t w : pool_->WorkerPids()) {
    EXPECT_EQ(ParentOf(w), supervisor) << "forked by the supervisor, sharing its loaded engine";
    EXPECT_EQ(ProcStatus(w, "NoNewPrivs"), "1");
    EXPECT_EQ(ProcStatus(w, "Seccomp"), "2") << "a seccomp filter is installed";
  }
}

TEST_F(ClamavWorkerPoolTest, WorkerKilledDuringAScanCostsThatScanAndIsReplaced) {
  Start(Options(1));
  pid_t worker = pool_->WorkerPids().at(0);
  ASSERT_EQ(kill(worker, SIGSTOP), 0);
  ClamavScan during;
  std::thread t([&] { during = pool_->Scan("Subject: x\r\n\r\n" + kEicar + "\r\n", "QKILL"); });
  // The request is in the stopped worker's socket: the kill lands during its scan.
  ASSERT_TRUE(WaitFor([&] { return pool_->requests_sent() == 1; }));
  ASSERT_EQ(kill(worker, SIGKILL), 0);
  t.join();
  EXPECT_FALSE(during.ok);
  EXPECT_NE(during.error.find("died during the scan"), std::string::npos) << during.error;
  // The next message is scanned by a replacement worker.
  ClamavScan after = pool_->Scan("Subject: x\r\n\r\n" + kEicar + "\r\n", "QNEXT");
  ASSERT_TRUE(after.ok) << after.error;
  EXPECT_NE(after.virus, "");
  ASSERT_EQ(pool_->WorkerPids().size(), 1u);
  EXPECT_NE(pool_->WorkerPids()[0], worker);
  EXPECT_TRUE(WaitFor([&] { return pool_->workers_lost() == 1; }));
}

TEST_F(ClamavWorkerPoolTest, HungWorkerIsKilledAtTheDeadlineAndReplaced) {
  auto o = Options(1);
  o.timeout = 1s;
  Start(o);
  pid_t worker = pool_->WorkerPids().at(0);
  ASSERT_EQ(kill(worker, SIGSTOP), 0);
  ClamavScan hung = pool_->Scan("Subject: x\r\n\r\nhello\r\n", "QHUNG");
  EXPECT_FALSE(hung.ok);
  EXPECT_NE(hung.error.find("overran the deadline"), std::string::npos) << hung.error;
  ASSERT_TRUE(WaitFor([&] { return ProcStatus(worker, "State").empty(); }))
      << "the hung worker was killed";
  ClamavScan after = pool_->Scan("Subject: x\r\n\r\n" + kEicar + "\r\n", "QNEXT");
  ASSERT_TRUE(after.ok) << after.error;
  EXPECT_NE(after.virus, "");
}

TEST_F(ClamavWorkerPoolTest, ReloadedDatabaseReachesEveryWorker) {
  Start(Options(2));
  const std::string marker = "SW-POOL-RELOAD-MARKER-7f3a";
  ClamavScan before = pool_->Scan("Subject: x\r\n\r\n" + marker + "\r\n", "Q1");
  ASSERT_TRUE(before.ok);
  EXPECT_EQ(before.virus, "");
  std::vector<pid_t> old = pool_->WorkerPids();
  std::string hex;
  char b[3];
  for (unsigned char c : marker) {
    std::snprintf(b, sizeof b, "%02x", c);
    hex += b;
  }
  std::ofstream(db_ + "/.new", std::ios::binary)
      << Read(db_ + "/test.ndb") << "Sw.Test.PoolMarker:0:*:" << hex << "\n";
  fs::rename(db_ + "/.new", db_ + "/test.ndb");
  ASSERT_TRUE(WaitFor([&] { return pool_->generation() == 2; }));
  ASSERT_TRUE(WaitFor([&] { return pool_->WorkerPids().size() == 2; }));
  for (pid_t p : pool_->WorkerPids())
    EXPECT_EQ(std::count(old.begin(), old.end(), p), 0) << "a new generation of workers";
  ClamavScan r[2];
  std::thread a([&] { r[0] = pool_->Scan("Subject: a\r\n\r\n" + marker + "\r\n", "QA"); });
  std::thread c([&] { r[1] = pool_->Scan("Subject: b\r\n\r\n" + marker + "\r\n", "QB"); });
  a.join();
  c.join();
  for (const auto& s : r) EXPECT_EQ(s.virus, "Sw.Test.PoolMarker.UNOFFICIAL") << s.error;
  // The retired generation exits once its sockets are closed.
  for (pid_t p : old) EXPECT_TRUE(WaitFor([&] { return ProcStatus(p, "State").empty(); }));
}

TEST_F(ClamavWorkerPoolTest, KilledSupervisorIsRestarted) {
  Start(Options(1));
  pid_t supervisor = pool_->supervisor_pid();
  ASSERT_EQ(kill(supervisor, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] {
    pid_t now = pool_->supervisor_pid();
    return now > 0 && now != supervisor && pool_->WorkerPids().size() == 1;
  }));
  ClamavScan after = pool_->Scan("Subject: x\r\n\r\n" + kEicar + "\r\n", "QNEXT");
  ASSERT_TRUE(after.ok) << after.error;
  EXPECT_NE(after.virus, "");
}

TEST_F(ClamavWorkerPoolTest, MissingDatabaseFailsToStartWithTheReason) {
  auto o = Options(1);
  o.clamav.database = dir_ + "/nope";
  std::string error;
  EXPECT_FALSE(ClamavWorkerPool::Start(o, &error));
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
}

// In a forked child: confined, it can open files but cannot open a socket, fork or run a program.
TEST(ClamavSandboxTest, RefusesNetworkProcessesAndPrograms) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string why;
    if (!EnterWorkerSandbox({1ULL << 30, 0, 64}, &why)) _exit(10);
    if (socket(AF_INET, SOCK_STREAM, 0) >= 0 || errno != EPERM) _exit(11);
    if (socket(AF_UNIX, SOCK_STREAM, 0) >= 0) _exit(12);
    if (fork() >= 0) _exit(13);
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    execv("/bin/true", argv);
    if (errno != EPERM) _exit(14);
    FILE* f = std::fopen("/proc/self/status", "r");  // ordinary file access still works
    if (!f) _exit(15);
    std::fclose(f);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 sandbox, 11/12 socket, 13 fork, 14 exec, 15 open";
}

}  // namespace
}  // namespace sw::filters
