// Owns the low-disk-space check behind "452 4.3.1" at MAIL (statvfs, cached for a second).
// Fails open: if statvfs fails the space is treated as sufficient (the write will tell).
#pragma once

#include <sys/statvfs.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace sw::gateway {

class DiskSpace {
 public:
  DiskSpace(std::string path, uint64_t min_free) : path_(std::move(path)), min_free_(min_free) {}

  bool Low() {
    auto now = std::chrono::steady_clock::now();
    if (now - checked_ > std::chrono::seconds(1)) {
      checked_ = now;
      struct statvfs s {};
      if (::statvfs(path_.c_str(), &s) == 0) {
        free_ = static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
      } else {
        free_ = UINT64_MAX;
      }
    }
    return free_ < min_free_;
  }
  uint64_t free_bytes() const { return free_; }

 private:
  std::string path_;
  uint64_t min_free_;
  uint64_t free_ = UINT64_MAX;
  std::chrono::steady_clock::time_point checked_{};
};

}  // namespace sw::gateway
