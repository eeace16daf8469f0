// Owns OS plumbing for tests: temp dirs, free loopback ports, child processes, log polling.
// Fails by return value (false/nullopt plus a message); no child is left running or unreaped.
#include "tests/integration/harness/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace sw::it {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/sw-it-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) != nullptr) path_ = buf.data();
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

uint16_t FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = 0;
  uint16_t port = 0;
  socklen_t len = sizeof sa;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
    port = ntohs(sa.sin_port);
  }
  close(fd);
  return port;
}

ClosedPort::ClosedPort() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
    port_ = ntohs(sa.sin_port);
  }
}

ClosedPort::~ClosedPort() {
  if (fd_ >= 0) close(fd_);
}

bool WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return static_cast<bool>(out);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ExitStatus::ToString() const {
  if (exited) return "exit " + std::to_string(code);
  if (signal) return std::string("signal ") + strsignal(signal);
  return "unknown";
}

namespace {

ExitStatus FromWaitStatus(int st) {
  ExitStatus es;
  if (WIFEXITED(st)) {
    es.exited = true;
    es.code = WEXITSTATUS(st);
  } else if (WIFSIGNALED(st)) {
    es.signal = WTERMSIG(st);
  }
  return es;
}

}  // namespace

Process::~Process() {
  if (running()) Terminate(5s);
}

bool Process::Start(const std::vector<std::string>& argv, const std::string& output_path,
                    std::string* error) {
  if (running() || argv.empty()) {
    if (error) *error = running() ? "already running" : "empty argv";
    return false;
  }
  // Everything the child needs is prepared before fork: only async-signal-safe calls after.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int out = open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) {
    if (error) *error = output_path + ": " + strerror(errno);
    return false;
  }
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    if (error) *error = std::string("fork: ") + strerror(errno);
    close(out);
    if (devnull >= 0) close(devnull);
    return false;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    setpgid(0, 0);  // a terminal's Ctrl-C hits the runner only; PDEATHSIG then ends us
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    // Unblock what gtest or the runner may have blocked; the gateway installs its own handlers.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    execv(args[0], args.data());
    const char msg[] = "exec failed\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    _exit(127);
  }
  close(out);
  if (devnull >= 0) close(devnull);
  pid_ = pid;
  return true;
}

bool Process::Signal(int sig) const { return running() && kill(pid_, sig) == 0; }

std::optional<ExitStatus> Process::Wait(Millis timeout) {
  if (!running()) return std::nullopt;
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return FromWaitStatus(st);
    }
    if (r < 0 && errno != EINTR) {  // not our child any more (should not happen)
      pid_ = -1;
      return ExitStatus{};
    }
    if (std::chrono::steady_clock::now() >= end) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

ExitStatus Process::Kill() {
  if (!running()) return ExitStatus{};
  kill(pid_, SIGKILL);
  int st = 0;
  while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return FromWaitStatus(st);
}

ExitStatus Process::Terminate(Millis grace) {
  if (!running()) return ExitStatus{};
  kill(pid_, SIGTERM);
  if (auto st = Wait(grace)) return *st;
  return Kill();
}

std::optional<ExitStatus> Process::Run(const std::vector<std::string>& argv,
                                       const std::string& output_path, Millis timeout,
                                       std::string* error) {
  Process p;
  if (!p.Start(argv, output_path, error)) return std::nullopt;
  if (auto st = p.Wait(timeout)) return st;
  if (error) *error = argv[0] + ": timed out, killed";
  p.Kill();
  return std::nullopt;
}

std::vector<std::string> LogFile::Lines() const {
  std::vector<std::string> lines;
  std::string text = Text();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // a partial last line is not an event yet
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

std::vector<LogMatch> LogFile::FindAll(const std::string& regex) const {
  std::regex re(regex, std::regex::ECMAScript);
  std::vector<LogMatch> out;
  for (auto& line : Lines()) {
    std::smatch m;
    if (!std::regex_search(line, m, re)) continue;
    LogMatch lm;
    for (const auto& g : m) lm.groups.push_back(g.str());
    lm.line = std::move(line);
    out.push_back(std::move(lm));
  }
  return out;
}

std::optional<LogMatch> LogFile::Find(const std::string& regex) const {
  auto all = FindAll(regex);
  if (all.empty()) return std::nullopt;
  return all.front();
}

std::optional<LogMatch> LogFile::WaitFor(const std::string& regex, Millis timeout) const {
  std::optional<LogMatch> found;
  PollUntil([&] { return (found = Find(regex)).has_value(); }, timeout);
  return found;
}

bool LogFile::WaitForCount(const std::string& regex, size_t n, Millis timeout) const {
  return PollUntil([&] { return Count(regex) >= n; }, timeout);
}

}  // namespace sw::it
