// Owns the real scanners behind the filter tests: an rspamd on free loopback ports (the
// project's fixture config), a ClamAV test database built by sigtool, and a silent listener.
// Fails by gtest AssertionResult carrying rspamd's output; rspamd (workers included) dies with
// this object or with the test process, however that ends.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness/process.h"

namespace sw::it {

// Full path of `program` found in $PATH (or /usr/sbin, /usr/bin); empty when absent.
std::string FindProgram(const std::string& program);

// Status code of `GET path` on 127.0.0.1:port (HTTP/1.0), 0 on any failure.
int HttpGetStatus(uint16_t port, const std::string& path, Millis timeout);

class RspamdProcess {
 public:
  RspamdProcess() = default;
  ~RspamdProcess() { Stop(); }
  RspamdProcess(const RspamdProcess&) = delete;
  RspamdProcess& operator=(const RspamdProcess&) = delete;

  // Starts `rspamd -f` with tests/fixtures/rspamd/rspamd.conf, state and logs under
  // `state_dir`, on two free loopback ports; succeeds once /ping answers. The hyperscan
  // cache lives in $RSPAMD_HS_CACHE or $TMPDIR/spamweeder-rspamd-hs-cache, so only the
  // first start on a machine pays the compile (15-20 s).
  ::testing::AssertionResult Start(const std::string& state_dir, Millis timeout = 240s);
  // SIGTERM (rspamd stops its workers), then SIGKILL to the whole process group.
  void Stop();
  bool running() const { return wrapper_ > 0; }
  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The same normal worker on its unix socket (fixture: $RUNDIR/normal.sock), as a
  // filters.rspamd.url.
  std::string unix_url() const { return "unix:" + dir_ + "/normal.sock"; }
  std::string Logs() const;  // stdout/stderr and rspamd.log

 private:
  // rspamd runs under a small sh wrapper in its own process group. The wrapper holds the read
  // end of a pipe whose write end only this process has: when it closes (Stop, or this process
  // dying in any way) the wrapper stops rspamd and kills the group. A plain child with
  // PDEATHSIG would leave rspamd's workers running after a crash.
  bool Spawn(const std::vector<std::string>& argv, std::string* error);
  bool RspamdExited() const;  // the main process is gone (or a zombie)

  pid_t wrapper_ = -1;
  int pipe_w_ = -1;
  std::string dir_;
  uint16_t port_ = 0;
  uint16_t controller_port_ = 0;
};

// Runs tests/fixtures/make-clamav-db.sh OUTDIR (test.hdb, test.hsb, test.ndb).
::testing::AssertionResult BuildClamavDb(const std::string& out_dir);

// A loopback TCP listener that never accepts: connections complete in the kernel backlog and
// then hear nothing (a hung scanner).
class SilentListener {
 public:
  SilentListener() = default;
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  bool Start();
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// One rspamd and one ClamAV test database per test process (ctest runs one test per
// process; a warm hyperscan cache makes rspamd start in about a second). Register it with
// ::testing::AddGlobalTestEnvironment.
class ScannerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    ASSERT_FALSE(dir_->path().empty());
    db_ = dir_->File("clamav-db");
    ASSERT_TRUE(BuildClamavDb(db_));
    rspamd_ = std::make_unique<RspamdProcess>();
    ASSERT_TRUE(rspamd_->Start(dir_->File("rspamd")));
    ready_ = true;
  }
  void TearDown() override {
    rspamd_.reset();
    dir_.reset();
  }
  bool ready() const { return ready_; }
  const std::string& db() const { return db_; }
  RspamdProcess& rspamd() { return *rspamd_; }

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<RspamdProcess> rspamd_;
  std::string db_;
  bool ready_ = false;
};

}  // namespace sw::it
