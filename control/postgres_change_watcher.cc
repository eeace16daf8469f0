// Owns the PostgreSQL control store's watch (SPEC section 13): a connection of its own that
// LISTENs on sw_control and reads the change version once a second. Fails by reporting the
// server down (once per outage) and reconnecting every second; never throws.
#include "control/postgres_change_watcher.h"

#include <charconv>
#include <pqxx/pqxx>

#include "control/postgres_schema.h"

namespace sw::control {
namespace {

class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, PgChangeWatcher* w)
      : pqxx::notification_receiver(c, kPgChangeChannel), w_(w) {}
  void operator()(const std::string& payload, int) override { w_->Notified(payload); }

 private:
  PgChangeWatcher* w_;
};

}  // namespace

PgChangeWatcher::PgChangeWatcher(std::string url, Fn fn)
    : url_(PgUrlWithTimeout(url)), fn_(std::move(fn)) {
  thread_ = std::thread([this] { Loop(); });
}

PgChangeWatcher::~PgChangeWatcher() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PgChangeWatcher::Sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return Stopping(); });
}

void PgChangeWatcher::Notified(const std::string& payload) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), v);
  if (ec != std::errc() || end != payload.data() + payload.size()) return;  // the poll heals
  fn_({true, v, ""});
}

void PgChangeWatcher::Loop() {
  while (!Stopping()) {
    std::string why;
    Serve(&why);
    if (Stopping()) break;
    if (up_) {
      up_ = false;
      fn_({false, 0, why});
    }
    Sleep(std::chrono::duration_cast<std::chrono::milliseconds>(kPollInterval));
  }
}

void PgChangeWatcher::Serve(std::string* why) {
  try {
    pqxx::connection c(url_);
    Receiver receiver(c, this);  // LISTEN sw_control
    auto next_poll = std::chrono::steady_clock::now();
    while (!Stopping()) {
      auto now = std::chrono::steady_clock::now();
      if (now >= next_poll) {
        long long v = 0;
        {
          pqxx::nontransaction t(c);
          v = t.exec1("SELECT version FROM control_version WHERE id = 1")[0].as<long long>();
        }
        up_ = true;
        fn_({true, static_cast<uint64_t>(v), ""});
        next_poll = now + kPollInterval;
      }
      c.await_notification(0, 200000);  // 200 ms: Stop is seen soon enough
      if (!c.is_open()) throw pqxx::broken_connection("connection to the server lost");
    }
  } catch (const std::exception& e) {
    *why = PgStatus(e, "watch").message();
  }
}

}  // namespace sw::control
