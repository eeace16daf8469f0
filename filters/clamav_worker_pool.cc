// Owns the gateway's side of sandboxed ClamAV scanning: starts `spamweeder clamav-worker`,
// takes the worker sockets it hands over, sends each message to an idle worker (inside the
// request datagram, or in a sealed memfd when large) and waits for the verdict; restarts the
// supervisor if it dies. Fails by value: a worker that dies or overruns the deadline costs that one
// scan (ok false).
#include "filters/clamav_worker_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "filters/clamav_wire.h"

extern char** environ;

namespace sw::filters {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::vector<std::string> Words(const std::string& text, size_t n) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (out.size() + 1 < n) {
    size_t sp = text.find(' ', pos);
    if (sp == std::string::npos) break;
    out.push_back(text.substr(pos, sp - pos));
    pos = sp + 1;
  }
  out.push_back(text.substr(pos));
  return out;
}

uint64_t Number(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 10); }

// Waits up to `patience` for `pid` to exit, then kills it. Returns its wait status.
int Reap(pid_t pid, milliseconds patience) {
  int status = 0;
  auto until = Clock::now() + patience;
  while (Clock::now() < until) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return status;
    std::this_thread::sleep_for(milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return status;
}

}  // namespace

std::unique_ptr<ClamavWorkerPool> ClamavWorkerPool::Start(const ClamavWorkerOptions& options,
                                                          std::string* error) {
  std::unique_ptr<ClamavWorkerPool> pool(new ClamavWorkerPool(options));
  if (!pool->SpawnSupervisor(error)) return nullptr;
  pool->control_ = std::thread([p = pool.get()] { p->ControlLoop(); });
  return pool;
}

ClamavWorkerPool::~ClamavWorkerPool() { Stop(); }

bool ClamavWorkerPool::SpawnSupervisor(std::string* error) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    *error = std::string("socketpair: ") + std::strerror(errno);
    return false;
  }
  if (sv[1] == 3) {  // dup2(3, 3) would keep close-on-exec set
    int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    close(sv[1]);
    sv[1] = moved;
  }
  std::vector<std::string> args = {options_.program,
                                   "clamav-worker",
                                   "--database",
                                   options_.clamav.database,
                                   "--temp-dir",
                                   options_.clamav.temp_dir,
                                   "--reload-interval-ms",
                                   std::to_string(options_.clamav.reload_interval.count()),
                                   "--workers",
                                   std::to_string(std::max(1u, options_.workers)),
                                   "--memory",
                                   std::to_string(options_.memory)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, options_.program.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(sv[1]);
  if (rc != 0) {
    close(sv[0]);
    *error = "cannot start " + options_.program + " clamav-worker: " + std::strerror(rc);
    return false;
  }
  std::string text;
  int fd = -1;
  wire::Io io = wire::Receive(sv[0], &text, &fd, static_cast<int>(options_.start_timeout.count()));
  if (fd >= 0) close(fd);
  if (io != wire::Io::kOk || text.rfind("ready ", 0) != 0) {
    close(sv[0]);
    if (io == wire::Io::kOk && text.rfind("error ", 0) == 0) {
      *error = text.substr(6);
    } else if (io == wire::Io::kTimeout) {
      *error = "the ClamAV worker did not load the database in time";
    } else {
      *error = "the ClamAV worker exited while starting";
    }
    kill(pid, SIGKILL);
    Reap(pid, milliseconds(0));
    return false;
  }
  auto w = Words(text, 3);
  std::lock_guard<std::mutex> lock(mu_);
  ctl_fd_ = sv[0];
  supervisor_ = pid;
  supervisor_generation_ = w.size() > 1 ? Number(w[1]) : 0;
  signatures_ = w.size() > 2 ? static_cast<unsigned>(Number(w[2])) : 0;
  ++generation_;
  log::Info("clamav_workers_started")
      .kv("pid", static_cast<long long>(pid))
      .kv("workers", static_cast<unsigned long long>(options_.workers))
      .kv("signatures", static_cast<unsigned long long>(signatures_));
  return true;
}

void ClamavWorkerPool::ControlLoop() {
  for (;;) {
    int fd;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      fd = ctl_fd_;
    }
    std::string text;
    int got = -1;
    wire::Io io = wire::Receive(fd, &text, &got, 500);
    if (io == wire::Io::kTimeout) continue;
    if (io == wire::Io::kOk) {
      HandleControl(text, got);
      continue;
    }
    if (got >= 0) close(got);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    SupervisorGone();
  }
}

void ClamavWorkerPool::HandleControl(const std::string& text, int fd) {
  auto w = Words(text, 3);
  std::lock_guard<std::mutex> lock(mu_);
  if (w[0] == "slot" && w.size() == 3 && fd >= 0 && !stopping_ &&
      Number(w[1]) == supervisor_generation_) {
    idle_.push_back({fd, static_cast<pid_t>(Number(w[2])), generation_});
    cv_.notify_one();
    return;
  }
  if (fd >= 0) close(fd);  // a slot of a retired generation, or we are stopping
  if (w[0] == "loaded" && w.size() == 3) {
    supervisor_generation_ = Number(w[1]);
    signatures_ = static_cast<unsigned>(Number(w[2]));
    ++generation_;
    for (const Slot& s : idle_) close(s.fd);  // retired: their workers see EOF and exit
    idle_.clear();
    log::Info("clamav_workers_reloaded")
        .kv("generation", static_cast<unsigned long long>(generation_))
        .kv("signatures", static_cast<unsigned long long>(signatures_));
  } else if (w[0] == "lost" && w.size() == 3) {
    pid_t pid = static_cast<pid_t>(Number(w[1]));
    bool normal = w[2] == "exit 0";
    if (!normal) ++lost_;
    auto it = std::find_if(idle_.begin(), idle_.end(), [&](const Slot& s) { return s.pid == pid; });
    if (it != idle_.end()) {
      close(it->fd);
      idle_.erase(it);
    }
    (normal ? log::Info("clamav_worker_exited") : log::Warn("clamav_worker_exited"))
        .kv("pid", static_cast<long long>(pid))
        .kv("how", w[2]);
  }
}

void ClamavWorkerPool::SupervisorGone() {
  pid_t pid;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pid = supervisor_;
    close(ctl_fd_);
    ctl_fd_ = -1;
    supervisor_ = -1;
    for (const Slot& s : idle_) close(s.fd);  // its workers die with it (PDEATHSIG)
    idle_.clear();
  }
  int status = Reap(pid, milliseconds(1000));
  log::Error("clamav_supervisor_died")
      .kv("pid", static_cast<long long>(pid))
      .kv("how", WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                     : "exit " + std::to_string(WEXITSTATUS(status)));
  milliseconds backoff(1000);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, backoff, [this] { return stopping_; })) return;
    }
    std::string error;
    if (SpawnSupervisor(&error)) return;
    log::Error("clamav_supervisor_restart_failed").kv("reason", error);
    backoff = std::min(backoff * 2, milliseconds(30000));
  }
}

std::optional<ClamavWorkerPool::Slot> ClamavWorkerPool::Acquire(Clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_until(lock, deadline, [this] { return stopping_ || !idle_.empty(); }))
    return std::nullopt;
  if (stopping_) return std::nullopt;
  Slot s = idle_.back();  // the most recently used worker: its pages are warm
  idle_.pop_back();
  busy_[s.pid] = s;
  return s;
}

void ClamavWorkerPool::Release(const Slot& slot) {
  std::lock_guard<std::mutex> lock(mu_);
  busy_.erase(slot.pid);
  if (stopping_ || slot.generation < generation_) {
    close(slot.fd);  // retired (a reload happened during the scan)
    return;
  }
  idle_.push_back(slot);
  cv_.notify_one();
}

void ClamavWorkerPool::Discard(const Slot& slot) {
  std::lock_guard<std::mutex> lock(mu_);
  busy_.erase(slot.pid);
  close(slot.fd);
}

void ClamavWorkerPool::RequestKill(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ctl_fd_ >= 0) wire::Send(ctl_fd_, "kill " + std::to_string(pid));
}

ClamavScan ClamavWorkerPool::Finish(const std::string& reply) {
  ClamavScan out;
  if (reply == "clean") {
    out.ok = true;
  } else if (reply.rfind("virus ", 0) == 0) {
    out.ok = true;
    out.virus = reply.substr(6);
  } else {
    out.error = reply.rfind("error ", 0) == 0 ? reply.substr(6) : "bad worker reply";
  }
  return out;
}

ClamavScan ClamavWorkerPool::Scan(std::string_view data, std::string_view id) {
  ClamavScan out;
  auto deadline = Clock::now() + options_.timeout;
  // Most mail fits in the request datagram; a larger message goes in a sealed memfd.
  const bool inline_data = data.size() <= wire::kMaxInline;
  int mem = inline_data ? -1 : wire::SealedMemfd(data.data(), data.size());
  if (!inline_data && mem < 0) {
    out.error = std::string("memfd: ") + std::strerror(errno);
    return out;
  }
  const std::string head = inline_data ? "inline " + std::to_string(data.size()) + "\n"
                                       : "scan " + std::to_string(data.size());
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto slot = Acquire(deadline);
    if (!slot) {
      out.error = "no ClamAV worker available";
      break;
    }
    // A worker that died while idle never saw the message: another one may take it.
    wire::Io sent =
        inline_data ? wire::SendWithPayload(slot->fd, head, data) : wire::Send(slot->fd, head, mem);
    if (sent != wire::Io::kOk) {
      Discard(*slot);
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++sent_;
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    std::string reply;
    int junk = -1;
    wire::Io io = wire::Receive(slot->fd, &reply, &junk, static_cast<int>(std::max(1L, left)));
    if (junk >= 0) close(junk);
    if (io == wire::Io::kOk) {
      Release(*slot);
      out = Finish(reply);
      break;
    }
    if (io == wire::Io::kTimeout) RequestKill(slot->pid);
    Discard(*slot);
    const char* what = io == wire::Io::kTimeout ? "overran the deadline, killed" : "died";
    log::Warn("clamav_worker_lost")
        .kv("queue_id", id)
        .kv("pid", static_cast<long long>(slot->pid))
        .kv("during", "scan")
        .kv("worker", what);
    out.error = std::string("ClamAV worker ") + what + " during the scan";
    break;
  }
  if (mem >= 0) close(mem);
  return out;
}

void ClamavWorkerPool::Stop() {
  pid_t pid;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    if (ctl_fd_ >= 0) shutdown(ctl_fd_, SHUT_RDWR);  // the supervisor kills its workers, exits
  }
  cv_.notify_all();
  if (control_.joinable()) control_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    pid = supervisor_;
    supervisor_ = -1;
  }
  if (pid > 0) Reap(pid, milliseconds(5000));
  std::lock_guard<std::mutex> lock(mu_);
  if (ctl_fd_ >= 0) close(ctl_fd_);
  ctl_fd_ = -1;
  for (const Slot& s : idle_) close(s.fd);
  idle_.clear();
}

unsigned ClamavWorkerPool::signatures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return signatures_;
}

uint64_t ClamavWorkerPool::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

uint64_t ClamavWorkerPool::workers_lost() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lost_;
}

uint64_t ClamavWorkerPool::requests_sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}

size_t ClamavWorkerPool::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return busy_.size();
}

pid_t ClamavWorkerPool::supervisor_pid() const {
  std::lock_guard<std::mutex> lock(mu_);
  return supervisor_;
}

std::vector<pid_t> ClamavWorkerPool::WorkerPids() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<pid_t> out;
  for (const Slot& s : idle_) out.push_back(s.pid);
  for (const auto& [pid, s] : busy_)
    if (s.generation == generation_) out.push_back(pid);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sw::filters
