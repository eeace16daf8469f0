// Owns the confinement of a ClamAV worker process: rlimits, no new privileges, a seccomp filter
// that refuses networking, program execution, process creation and debugging syscalls.
// Fails by value: false + the reason; the worker then exits rather than scan unconfined.
#include "filters/clamav_sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstring>
#include <memory>

namespace sw::filters {

namespace {

bool Limit(int resource, rlim_t value, const char* name, std::string* error) {
  struct rlimit rl {};
  rl.rlim_cur = rl.rlim_max = value;
  if (setrlimit(resource, &rl) == 0) return true;
  *error = std::string("setrlimit ") + name + ": " + std::strerror(errno);
  return false;
}

bool SanitizerBuild() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

// Refused with EPERM: a worker has its socket already and never needs another, nor a child,
// nor another program. A deny list (default allow) keeps libc and libclamav's ordinary file,
// memory and time calls working across library versions.
constexpr int kDenied[] = {
    SCMP_SYS(socket),
    SCMP_SYS(connect),
    SCMP_SYS(bind),
    SCMP_SYS(listen),
    SCMP_SYS(accept),
    SCMP_SYS(accept4),
    SCMP_SYS(execve),
    SCMP_SYS(execveat),
    SCMP_SYS(fork),
    SCMP_SYS(vfork),
    SCMP_SYS(clone),
    SCMP_SYS(clone3),
    SCMP_SYS(ptrace),
    SCMP_SYS(process_vm_readv),
    SCMP_SYS(process_vm_writev),
    SCMP_SYS(mount),
    SCMP_SYS(umount2),
    SCMP_SYS(pivot_root),
    SCMP_SYS(chroot),
    SCMP_SYS(unshare),
    SCMP_SYS(setns),
    SCMP_SYS(kexec_load),
    SCMP_SYS(init_module),
    SCMP_SYS(finit_module),
    SCMP_SYS(delete_module),
    SCMP_SYS(bpf),
    SCMP_SYS(perf_event_open),
    SCMP_SYS(keyctl),
    SCMP_SYS(add_key),
    SCMP_SYS(request_key),
    SCMP_SYS(open_by_handle_at),
    SCMP_SYS(userfaultfd),
    SCMP_SYS(kill),
    SCMP_SYS(tkill),
    SCMP_SYS(setuid),
    SCMP_SYS(setgid),
    SCMP_SYS(setreuid),
    SCMP_SYS(setregid),
    SCMP_SYS(setresuid),
    SCMP_SYS(setresgid),
    SCMP_SYS(mknod),
    SCMP_SYS(mknodat),
    SCMP_SYS(swapon),
    SCMP_SYS(swapoff),
    SCMP_SYS(reboot),
    SCMP_SYS(settimeofday),
    SCMP_SYS(clock_settime),
    SCMP_SYS(acct),
};

bool Seccomp(std::string* error) {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW),
                                                       seccomp_release);
  if (!ctx) {
    *error = "seccomp_init failed";
    return false;
  }
  for (int sys : kDenied) {
    if (sys < 0) continue;  // not a syscall on this architecture
    int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), sys, 0);
    if (rc != 0) {
      *error = std::string("seccomp_rule_add: ") + std::strerror(-rc);
      return false;
    }
  }
  int rc = seccomp_load(ctx.get());
  if (rc != 0) {
    *error = std::string("seccomp_load: ") + std::strerror(-rc);
    return false;
  }
  return true;
}

}  // namespace

bool EnterWorkerSandbox(const SandboxLimits& limits, std::string* error) {
  if (!Limit(RLIMIT_CORE, 0, "RLIMIT_CORE", error)) return false;
  if (!Limit(RLIMIT_NOFILE, limits.open_files, "RLIMIT_NOFILE", error)) return false;
  if (limits.file_size && !Limit(RLIMIT_FSIZE, limits.file_size, "RLIMIT_FSIZE", error))
    return false;
  // ASan reserves terabytes of shadow address space: an address-space limit breaks it.
  if (limits.memory && !SanitizerBuild() && !Limit(RLIMIT_AS, limits.memory, "RLIMIT_AS", error))
    return false;
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    *error = std::string("prctl: ") + std::strerror(errno);
    return false;
  }
  return Seccomp(error);
}

}  // namespace sw::filters
