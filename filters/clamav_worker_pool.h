// Owns the gateway's side of sandboxed ClamAV scanning: starts `spamweeder clamav-worker`,
// takes the worker sockets it hands over, sends each message to an idle worker (inside the
// request datagram, or in a sealed memfd when large) and waits for the verdict; restarts the
// supervisor if it dies. Fails by value: a worker that dies or overruns the deadline costs that one
// scan (ok false).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "filters/clamav_engine.h"
#include "filters/virus_scanner.h"

namespace sw::filters {

struct ClamavWorkerOptions {
  std::string program = "/proc/self/exe";  // the spamweeder binary (worker mode)
  ClamavOptions clamav;
  unsigned workers = 1;
  std::chrono::milliseconds timeout{60000};         // one scan; then the worker is killed
  uint64_t memory = 0;                              // RLIMIT_AS per worker (0: unlimited)
  std::chrono::milliseconds start_timeout{300000};  // database load at start
};

class ClamavWorkerPool : public VirusScanner {
 public:
  // Starts the supervisor and waits until it has loaded the database; null with `error` (the
  // supervisor's own reason, e.g. a missing database) on failure.
  static std::unique_ptr<ClamavWorkerPool> Start(const ClamavWorkerOptions& options,
                                                 std::string* error);
  ~ClamavWorkerPool() override;
  ClamavWorkerPool(const ClamavWorkerPool&) = delete;
  ClamavWorkerPool& operator=(const ClamavWorkerPool&) = delete;

  ClamavScan Scan(std::string_view data, std::string_view id) override;
  void Stop() override;
  unsigned signatures() const override;
  uint64_t generation() const override;

  // Live worker processes (idle and busy) of the current generation, and the supervisor.
  std::vector<pid_t> WorkerPids() const;
  pid_t supervisor_pid() const;
  uint64_t workers_lost() const;   // workers that died or were killed
  size_t busy() const;             // workers taken for a scan and not answered yet
  uint64_t requests_sent() const;  // scan requests a worker's socket accepted

 private:
  struct Slot {
    int fd = -1;
    pid_t pid = -1;
    uint64_t generation = 0;
  };

  explicit ClamavWorkerPool(ClamavWorkerOptions options) : options_(std::move(options)) {}
  // posix_spawn + wait for "ready"; on success ctl_fd_/supervisor_ are set.
  bool SpawnSupervisor(std::string* error);
  void ControlLoop();
  void HandleControl(const std::string& text, int fd);
  void SupervisorGone();
  std::optional<Slot> Acquire(std::chrono::steady_clock::time_point deadline);
  void Release(const Slot& slot);
  void Discard(const Slot& slot);
  void RequestKill(pid_t pid);
  ClamavScan Finish(const std::string& reply);

  ClamavWorkerOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Slot> idle_;
  std::map<pid_t, Slot> busy_;
  int ctl_fd_ = -1;
  pid_t supervisor_ = -1;
  uint64_t supervisor_generation_ = 0;  // the supervisor's own numbering
  uint64_t generation_ = 0;             // ours: +1 per "ready" or "loaded"
  unsigned signatures_ = 0;
  uint64_t lost_ = 0;
  uint64_t sent_ = 0;
  bool stopping_ = false;
  std::thread control_;
};

}  // namespace sw::filters
