// Owns the PostgreSQL control store's watch (SPEC section 13): a connection of its own that
// LISTENs on sw_control and reads the change version once a second. Fails by reporting the
// server down (once per outage) and reconnecting every second; never throws.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "control/control_store.h"

namespace sw::control {

// The NOTIFY channel; the payload is the change version in decimal.
inline constexpr const char* kPgChangeChannel = "sw_control";

class PgChangeWatcher {
 public:
  using Fn = std::function<void(const ControlStore::WatchEvent&)>;
  static constexpr auto kPollInterval = std::chrono::seconds(1);

  // Starts the thread at once; `fn` runs on it (a notification's version within milliseconds,
  // the polled one every kPollInterval while up, one down event when the server goes away).
  PgChangeWatcher(std::string url, Fn fn);
  ~PgChangeWatcher();  // stops and joins: `fn` is not called after it
  PgChangeWatcher(const PgChangeWatcher&) = delete;
  PgChangeWatcher& operator=(const PgChangeWatcher&) = delete;

  // From a notification's payload (on the watching thread).
  void Notified(const std::string& payload);

 private:
  void Loop();
  // One connection's life: LISTEN, then notifications and polls until it fails (`*why`) or
  // Stop.
  void Serve(std::string* why);
  bool Stopping() const { return stop_.load(std::memory_order_acquire); }
  void Sleep(std::chrono::milliseconds d);

  const std::string url_;
  const Fn fn_;
  bool up_ = true;  // last state reported (the store was reachable at Open); watching thread
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace sw::control
