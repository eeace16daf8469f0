// Owns the framing between the gateway and its ClamAV worker processes: one text datagram per
// message on a SOCK_SEQPACKET socket, optionally carrying one file descriptor (SCM_RIGHTS).
// Fails by value: kClosed (peer gone), kTimeout, kError with errno in the text.
#include "filters/clamav_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace sw::filters::wire {

Io Send(int fd, const std::string& text, int pass_fd) {
  if (text.size() > kMaxDatagram) return Io::kError;
  struct iovec iov {
    const_cast<char*>(text.data()), text.size()
  };
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (pass_fd >= 0) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
  }
  for (;;) {
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n >= 0) return Io::kOk;
    if (errno == EINTR) continue;
    return errno == EPIPE || errno == ECONNRESET ? Io::kClosed : Io::kError;
  }
}

Io SendWithPayload(int fd, const std::string& head, std::string_view payload) {
  if (head.size() > kMaxDatagram || payload.size() > kMaxInline) return Io::kError;
  struct iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                         {const_cast<char*>(payload.data()), payload.size()}};
  struct msghdr msg {};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  for (;;) {
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n >= 0) return Io::kOk;
    if (errno == EINTR) continue;
    return errno == EPIPE || errno == ECONNRESET ? Io::kClosed : Io::kError;
  }
}

Io Receive(int fd, std::string* text, int* got_fd, int timeout_ms, size_t max) {
  *got_fd = -1;
  struct pollfd p {
    fd, POLLIN, 0
  };
  for (;;) {
    int r = poll(&p, 1, timeout_ms);
    if (r > 0) break;
    if (r == 0) return Io::kTimeout;
    if (errno != EINTR) return Io::kError;
  }
  text->resize(max);
  struct iovec iov {
    text->data(), max
  };
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == ECONNRESET ? Io::kClosed : Io::kError;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len >= CMSG_LEN(sizeof(int)))
      std::memcpy(got_fd, CMSG_DATA(c), sizeof(int));
  }
  if (n == 0 && *got_fd < 0) return Io::kClosed;  // EOF (SOCK_SEQPACKET: the peer closed)
  if (msg.msg_flags & MSG_TRUNC) return Io::kError;
  text->resize(static_cast<size_t>(n));
  return Io::kOk;
}

int SealedMemfd(const char* data, size_t size) {
  int fd = memfd_create("sw-clamav-scan", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

}  // namespace sw::filters::wire
