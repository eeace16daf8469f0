// Owns `spamweeder clamav-worker`: the process the gateway starts for sandboxed ClamAV scanning.
// Fails by exit status: 2 on bad arguments or an unloadable database (reported first on fd 3).
#include "filters/clamav_worker_main.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>

#include "common/log.h"
#include "filters/clamav_engine.h"
#include "filters/clamav_sandbox.h"
#include "filters/clamav_wire.h"

namespace sw::filters {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kControlFd = 3;
// A worker that dies at once (e.g. an address-space limit too small to scan) is replaced at
// most this often, so a broken setup cannot become a fork storm.
constexpr auto kRespawnGap = std::chrono::milliseconds(200);

struct Args {
  ClamavOptions clamav;
  unsigned workers = 1;
  SandboxLimits limits;
};

bool ParseArgs(const std::vector<std::string>& args, Args* out, std::string* error) {
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    const std::string& k = args[i];
    const std::string& v = args[i + 1];
    try {
      if (k == "--database")
        out->clamav.database = v;
      else if (k == "--temp-dir")
        out->clamav.temp_dir = v;
      else if (k == "--reload-interval-ms")
        out->clamav.reload_interval = std::chrono::milliseconds(std::stoll(v));
      else if (k == "--workers")
        out->workers = static_cast<unsigned>(std::stoul(v));
      else if (k == "--memory")
        out->limits.memory = std::stoull(v);
      else {
        *error = "unknown argument " + k;
        return false;
      }
    } catch (const std::exception&) {
      *error = "bad value for " + k;
      return false;
    }
  }
  if (args.size() % 2 != 0) *error = "arguments come in pairs";
  if (out->workers == 0 || out->workers > 256) *error = "--workers must be 1..256";
  if (out->clamav.database.empty()) *error = "--database is required";
  return error->empty();
}

ClamavScan ScanMemfd(const ClamavEngine& engine, int fd, size_t size) {
  ClamavScan s;
  void* map = size ? mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : nullptr;
  if (size && map == MAP_FAILED) {
    s.error = std::string("mmap: ") + std::strerror(errno);
    return s;
  }
  s = engine.Scan(std::string_view(static_cast<const char*>(map), size));
  if (size) munmap(map, size);
  return s;
}

// One scanner process: confined, then one "scan" request at a time until the gateway closes
// its end of the socket. Never returns.
[[noreturn]] void ServeScans(const ClamavEngine& engine, int sock, const SandboxLimits& limits) {
  std::string why;
  if (!EnterWorkerSandbox(limits, &why)) {
    log::Error("clamav_worker_sandbox_failed").kv("reason", why);
    _exit(3);
  }
  std::string req;
  req.reserve(wire::kMaxDatagram + wire::kMaxInline);
  for (;;) {
    int fd = -1;
    wire::Io io = wire::Receive(sock, &req, &fd, -1, wire::kMaxDatagram + wire::kMaxInline);
    if (io != wire::Io::kOk) _exit(0);
    ClamavScan s;
    if (req.rfind("inline ", 0) == 0) {
      size_t nl = req.find('\n');
      size_t size = std::strtoull(req.c_str() + 7, nullptr, 10);
      if (nl == std::string::npos || req.size() - nl - 1 != size) _exit(4);
      s = engine.Scan(std::string_view(req).substr(nl + 1));
    } else if (req.rfind("scan ", 0) == 0 && fd >= 0) {
      s = ScanMemfd(engine, fd, std::strtoull(req.c_str() + 5, nullptr, 10));
    } else {
      _exit(4);
    }
    if (fd >= 0) close(fd);
    std::string reply = !s.ok ? "error " + s.error : s.virus.empty() ? "clean" : "virus " + s.virus;
    if (reply.size() > wire::kMaxDatagram) reply.resize(wire::kMaxDatagram);
    if (wire::Send(sock, reply) != wire::Io::kOk) _exit(0);
  }
}

std::string HowItEnded(int status) {
  if (WIFSIGNALED(status)) return std::string("signal ") + std::to_string(WTERMSIG(status));
  return "exit " + std::to_string(WEXITSTATUS(status));
}

void OnChild(int) {}  // only to interrupt poll()

class Supervisor {
 public:
  Supervisor(Args args, std::unique_ptr<ClamavEngine> engine)
      : args_(std::move(args)), engine_(std::move(engine)) {}

  int Run() {
    Report("ready " + std::to_string(engine_->generation()) + " " +
           std::to_string(engine_->signatures()));
    for (unsigned i = 0; i < args_.workers; ++i) Fork();
    auto next_reload = Clock::now() + args_.clamav.reload_interval;
    for (;;) {
      Reap();
      Respawn();
      if (Clock::now() >= next_reload) {
        if (engine_->ReloadIfChanged()) NewGeneration();
        next_reload = Clock::now() + args_.clamav.reload_interval;
      }
      if (!ReadControl(200)) break;
    }
    for (auto& [pid, gen] : children_) kill(pid, SIGKILL);
    while (waitpid(-1, nullptr, 0) > 0) {
    }
    return 0;
  }

 private:
  void Report(const std::string& text, int fd = -1) {
    if (wire::Send(kControlFd, text, fd) != wire::Io::kOk) gateway_gone_ = true;
  }

  void Fork() {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
      log::Error("clamav_worker_fork_failed").kv("reason", std::strerror(errno));
      ++missing_;
      return;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(kControlFd);
      close(sv[0]);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      signal(SIGCHLD, SIG_DFL);
      ServeScans(*engine_, sv[1], args_.limits);
    }
    close(sv[1]);
    if (pid < 0) {
      log::Error("clamav_worker_fork_failed").kv("reason", std::strerror(errno));
      close(sv[0]);
      ++missing_;
      return;
    }
    children_[pid] = engine_->generation();
    last_fork_ = Clock::now();
    Report("slot " + std::to_string(engine_->generation()) + " " + std::to_string(pid), sv[0]);
    close(sv[0]);
  }

  void Reap() {
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      auto it = children_.find(pid);
      if (it == children_.end()) continue;
      bool current = it->second == engine_->generation();
      children_.erase(it);
      Report("lost " + std::to_string(pid) + " " + HowItEnded(status));
      if (current) ++missing_;  // retired generations are not replaced
    }
  }

  void Respawn() {
    while (missing_ > 0 && Clock::now() - last_fork_ >= kRespawnGap) {
      --missing_;
      Fork();
    }
  }

  void NewGeneration() {
    Report("loaded " + std::to_string(engine_->generation()) + " " +
           std::to_string(engine_->signatures()));
    missing_ = 0;
    for (unsigned i = 0; i < args_.workers; ++i) Fork();
  }

  // False when the gateway is gone.
  bool ReadControl(int timeout_ms) {
    if (gateway_gone_) return false;
    struct pollfd p {
      kControlFd, POLLIN, 0
    };
    int r = poll(&p, 1, timeout_ms);  // SIGCHLD interrupts it: the caller reaps at once
    if (r < 0 && errno != EINTR) return false;
    if (r <= 0) return true;
    std::string text;
    int fd = -1;
    wire::Io io = wire::Receive(kControlFd, &text, &fd, 0);
    if (fd >= 0) close(fd);
    if (io == wire::Io::kClosed || io == wire::Io::kError) return false;
    if (io != wire::Io::kOk) return true;
    if (text.rfind("kill ", 0) == 0) {
      pid_t pid = static_cast<pid_t>(std::strtol(text.c_str() + 5, nullptr, 10));
      // Only a child not reaped yet: its pid cannot have been reused.
      if (children_.count(pid)) kill(pid, SIGKILL);
    }
    return true;
  }

  Args args_;
  std::unique_ptr<ClamavEngine> engine_;
  std::map<pid_t, uint64_t> children_;  // pid -> generation
  unsigned missing_ = 0;
  Clock::time_point last_fork_{};
  bool gateway_gone_ = false;
};

}  // namespace

int ClamavWorkerMain(const std::vector<std::string>& args) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // the gateway died before we got here: getppid() is 1
  if (getppid() == 1) return 1;
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = OnChild;
  sigaction(SIGCHLD, &sa, nullptr);
  Args a;
  std::string error;
  if (!ParseArgs(args, &a, &error)) {
    wire::Send(kControlFd, "error " + error);
    return 2;
  }
  auto engine = ClamavEngine::Open(a.clamav, &error);
  if (!engine) {
    wire::Send(kControlFd, "error " + error.substr(0, 1000));
    return 2;
  }
  return Supervisor(std::move(a), std::move(engine)).Run();
}

}  // namespace sw::filters
