// Owns the real scanners behind the filter tests: an rspamd on free loopback ports (the
// project's fixture config), a ClamAV test database built by sigtool, and a silent listener.
// Fails by gtest AssertionResult carrying rspamd's output; rspamd dies with this object.
#include "tests/integration/harness/scanners.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "tests/integration/harness/mime_mail.h"

namespace sw::it {

std::string FindProgram(const std::string& program) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/usr/bin:/sbin:/bin";
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t colon = path.find(':', pos);
    if (colon == std::string::npos) colon = path.size();
    std::string dir = path.substr(pos, colon - pos);
    if (!dir.empty()) {
      std::string full = dir + "/" + program;
      if (access(full.c_str(), X_OK) == 0) return full;
    }
    pos = colon + 1;
  }
  return "";
}

int HttpGetStatus(uint16_t port, const std::string& path, Millis timeout) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(port);
  int status = 0;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      std::string resp;
      auto end = std::chrono::steady_clock::now() + timeout;
      char buf[4096];
      while (resp.find("\r\n") == std::string::npos && std::chrono::steady_clock::now() < end) {
        pollfd p{fd, POLLIN, 0};
        int left = static_cast<int>(
            std::chrono::duration_cast<Millis>(end - std::chrono::steady_clock::now()).count());
        if (poll(&p, 1, left > 0 ? left : 0) <= 0) break;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        resp.append(buf, static_cast<size_t>(n));
      }
      if (resp.rfind("HTTP/1.", 0) == 0 && resp.size() >= 12) status = std::atoi(resp.c_str() + 9);
    }
  }
  close(fd);
  return status;
}

::testing::AssertionResult RspamdProcess::Start(const std::string& state_dir, Millis timeout) {
  std::string rspamd = FindProgram("rspamd");
  if (rspamd.empty()) return ::testing::AssertionFailure() << "rspamd not installed";
  dir_ = state_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  const char* hs_env = std::getenv("RSPAMD_HS_CACHE");
  const char* tmp = std::getenv("TMPDIR");
  std::string hs = hs_env && *hs_env
                       ? hs_env
                       : std::string(tmp && *tmp ? tmp : "/tmp") + "/spamweeder-rspamd-hs-cache";
  std::filesystem::create_directories(hs, ec);
  port_ = FreeLoopbackPort();
  controller_port_ = FreeLoopbackPort();
  while (controller_port_ == port_) controller_port_ = FreeLoopbackPort();
  std::string conf_dir = FixturePath("rspamd");
  std::vector<std::string> argv = {rspamd,
                                   "-f",
                                   "-i",
                                   "-c",
                                   conf_dir + "/rspamd.conf",
                                   "--var",
                                   "LOCAL_CONFDIR=" + conf_dir,
                                   "--var",
                                   "DBDIR=" + dir_,
                                   "--var",
                                   "RUNDIR=" + dir_,
                                   "--var",
                                   "LOGDIR=" + dir_,
                                   "--var",
                                   "HSCACHEDIR=" + hs,
                                   "--var",
                                   "NORMAL_PORT=" + std::to_string(port_),
                                   "--var",
                                   "CONTROLLER_PORT=" + std::to_string(controller_port_)};
  std::string error;
  if (!Spawn(argv, &error))
    return ::testing::AssertionFailure() << "cannot start rspamd: " << error;
  bool exited = false;
  bool up = PollUntil(
      [&] {
        if (HttpGetStatus(port_, "/ping", 1s) == 200) return true;
        exited = RspamdExited();
        return exited;
      },
      timeout);
  if (!up || exited) {
    auto failure = ::testing::AssertionFailure();
    failure << "rspamd not ready on 127.0.0.1:" << port_ << (exited ? " (it exited)" : "");
    std::string logs = Logs();
    Stop();
    return failure << "\n" << logs;
  }
  return ::testing::AssertionSuccess();
}

bool RspamdProcess::Spawn(const std::vector<std::string>& argv, std::string* error) {
  // $1: pid file; then rspamd's argv. `read` returns at EOF: the test process closed its end.
  static const char* kWrapper =
      "pidfile=$1; shift\n"
      "\"$@\" </dev/null &\n"
      "R=$!\n"
      "echo $R > \"$pidfile\"\n"
      "read _ || true\n"
      "kill -TERM $R 2>/dev/null\n"
      "i=0; while kill -0 $R 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done\n"
      "kill -KILL 0\n";
  std::vector<std::string> full = {"/bin/sh", "-c", kWrapper, "rspamd-wrapper",
                                   dir_ + "/wrapper.pid"};
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (auto& a : full) args.push_back(a.data());
  args.push_back(nullptr);
  std::string out_path = dir_ + "/stdout.log";
  int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int fds[2];
  if (out < 0 || pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("open/pipe: ") + strerror(errno);
    if (out >= 0) close(out);
    return false;
  }
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + strerror(errno);
    close(out);
    close(fds[0]);
    close(fds[1]);
    return false;
  }
  if (pid == 0) {
    setpgid(0, 0);
    dup2(fds[0], STDIN_FILENO);  // the dup has no O_CLOEXEC
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    execv(args[0], args.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also from this side, so Stop() never races the child's own call
  close(out);
  close(fds[0]);
  wrapper_ = pid;
  pipe_w_ = fds[1];
  return true;
}

bool RspamdProcess::RspamdExited() const {
  int status = 0;
  if (wrapper_ > 0 && waitpid(wrapper_, &status, WNOHANG) == wrapper_) return true;
  std::string pid = ReadFile(dir_ + "/wrapper.pid");
  if (pid.empty()) return false;  // not started yet
  std::string stat = ReadFile("/proc/" + std::to_string(std::atoi(pid.c_str())) + "/stat");
  size_t paren = stat.rfind(')');
  return stat.empty() ||
         (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z');
}

void RspamdProcess::Stop() {
  if (wrapper_ <= 0) return;
  close(pipe_w_);  // the wrapper stops rspamd (SIGTERM, up to 5 s) and kills the group
  pipe_w_ = -1;
  int status = 0;
  bool reaped = PollUntil([&] { return waitpid(wrapper_, &status, WNOHANG) == wrapper_; }, 10s);
  if (!reaped) {
    kill(-wrapper_, SIGKILL);
    waitpid(wrapper_, &status, 0);
  }
  wrapper_ = -1;
}

std::string RspamdProcess::Logs() const {
  return "---- rspamd stdout ----\n" + ReadFile(dir_ + "/stdout.log") +
         "---- rspamd.log (tail) ----\n" + [&] {
           std::string log = ReadFile(dir_ + "/rspamd.log");
           return log.size() > 8000 ? log.substr(log.size() - 8000) : log;
         }();
}

::testing::AssertionResult BuildClamavDb(const std::string& out_dir) {
  std::string out = out_dir + ".build.log";
  std::string error;
  auto st = Process::Run({"/bin/sh", FixturePath("make-clamav-db.sh"), out_dir}, out, 60s, &error);
  if (!st || !st->exited || st->code != 0) {
    return ::testing::AssertionFailure()
           << "make-clamav-db.sh failed (" << (st ? st->ToString() : error) << "):\n"
           << ReadFile(out);
  }
  return ::testing::AssertionSuccess();
}

SilentListener::~SilentListener() {
  if (fd_ >= 0) close(fd_);
}

bool SilentListener::Start() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd_, 128) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    return false;
  port_ = ntohs(sa.sin_port);
  return true;
}

}  // namespace sw::it
