// Owns OS plumbing for tests: temp dirs, free loopback ports, child processes, log polling.
// Fails by return value (false/nullopt plus a message); no child is left running or unreaped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sw::it {

using Millis = std::chrono::milliseconds;
using namespace std::chrono_literals;

// A fresh directory under $TMPDIR (or /tmp), removed recursively by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Binds 127.0.0.1:0, reads the port the kernel chose and closes the socket. 0 on failure.
// For a port another process binds at once (rspamd, redis). For "nothing listens here", use
// ClosedPort: a released port can be handed to the gateway's own bind(0) a moment later.
uint16_t FreeLoopbackPort();

// A loopback port held bound but not listening for the object's lifetime: connections are
// refused and no bind(0) elsewhere is given it. Bound with SO_REUSEPORT, so a TestSmtpServer
// (which sets it too) can start on it later, when a test brings the "down" server back.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  uint16_t port() const { return port_; }  // 0 when no port could be reserved

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

bool WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);  // empty when missing

struct ExitStatus {
  bool exited = false;  // normal exit: `code` is valid; otherwise `signal` killed it
  int code = -1;
  int signal = 0;
  std::string ToString() const;
};

// One child process: fork/exec with stdout and stderr appended to a file. The child gets
// PR_SET_PDEATHSIG(SIGKILL), so it dies with the thread that started it; the destructor sends
// SIGTERM, then SIGKILL after a grace period, and always reaps.
class Process {
 public:
  Process() = default;
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool Start(const std::vector<std::string>& argv, const std::string& output_path,
             std::string* error);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  bool Signal(int sig) const;
  // Reaps the child if it exits within `timeout`; nullopt while it is still running.
  std::optional<ExitStatus> Wait(Millis timeout);
  // SIGKILL and reap.
  ExitStatus Kill();
  // SIGTERM, up to `grace` for it to exit, then SIGKILL. Always reaps.
  ExitStatus Terminate(Millis grace);

  // Runs argv to completion with output to `output_path`; killed (nullopt) after `timeout`.
  static std::optional<ExitStatus> Run(const std::vector<std::string>& argv,
                                       const std::string& output_path, Millis timeout,
                                       std::string* error);

 private:
  pid_t pid_ = -1;
};

struct LogMatch {
  std::string line;
  std::vector<std::string> groups;  // [0] is the whole match, then capture groups
};

// A log file written by someone else (the gateway's stderr), read afresh on every call.
class LogFile {
 public:
  LogFile() = default;
  explicit LogFile(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  std::string Text() const { return ReadFile(path_); }
  std::vector<std::string> Lines() const;
  // ECMAScript regex searched in each line.
  std::vector<LogMatch> FindAll(const std::string& regex) const;
  std::optional<LogMatch> Find(const std::string& regex) const;
  size_t Count(const std::string& regex) const { return FindAll(regex).size(); }
  // Polls every 20 ms until a line matches; nullopt after `timeout`.
  std::optional<LogMatch> WaitFor(const std::string& regex, Millis timeout) const;
  // Polls until at least `n` lines match; false after `timeout`.
  bool WaitForCount(const std::string& regex, size_t n, Millis timeout) const;

 private:
  std::string path_;
};

// Free-standing form of LogFile::WaitFor, as the brief names it.
inline std::optional<LogMatch> WaitForLog(const LogFile& log, const std::string& regex,
                                          Millis timeout) {
  return log.WaitFor(regex, timeout);
}

// Polls `pred` every 20 ms until it returns true; false after `timeout`.
template <typename Pred>
bool PollUntil(Pred pred, Millis timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace sw::it
