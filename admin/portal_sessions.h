// Owns the portal's sign-in sessions: random session ids (stored only as SHA-256), a CSRF token
// per session, idle and absolute expiry, and the failed-sign-in limit per client address.
// Fails by value: an unknown, expired or ended session is nullopt; nothing throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "control/records.h"

namespace sw::admin {

// Named limits (SPEC section 12): a session ends after this long without a request, or this long
// after sign-in whatever happens; at most this many live sessions (the oldest is dropped); a
// client address with this many failed sign-ins within the window waits for the window's end.
inline constexpr std::chrono::minutes kPortalSessionIdle{30};
inline constexpr std::chrono::hours kPortalSessionMax{12};
inline constexpr size_t kPortalMaxSessions = 10000;
inline constexpr unsigned kPortalSignInFailures = 5;
inline constexpr std::chrono::minutes kPortalSignInWindow{5};
inline constexpr std::string_view kPortalCookie = "sw_session";

struct PortalSession {
  control::Principal principal;
  std::string token_hash;  // SHA-256 of the token signed in with (operator: admin.token)
  std::string csrf;        // sent back in X-CSRF-Token on every write
};

class PortalSessions {
 public:
  using Clock = std::chrono::steady_clock;

  // A new session; returns the cookie value (shown to the browser only).
  std::string Create(PortalSession session, Clock::time_point now = Clock::now());
  // The session of a cookie value, its idle timer restarted; nullopt when unknown or expired.
  std::optional<PortalSession> Find(const std::string& cookie_value,
                                    Clock::time_point now = Clock::now());
  void End(const std::string& cookie_value);
  size_t size() const { return sessions_.size(); }

  // Seconds the client must wait before another sign-in (0: go ahead).
  unsigned SignInWait(const std::string& client, Clock::time_point now = Clock::now());
  void SignInFailed(const std::string& client, Clock::time_point now = Clock::now());

  // The value of `name` in a Cookie header ("" when absent).
  static std::string CookieValue(const std::string& header, std::string_view name);

 private:
  struct Entry {
    PortalSession session;
    Clock::time_point created, last_seen;
  };
  struct Failures {
    unsigned count = 0;
    Clock::time_point window_start;
  };
  void Sweep(Clock::time_point now);

  std::map<std::string, Entry> sessions_;  // by SHA-256 of the cookie value
  std::map<std::string, Failures> failures_;
};

}  // namespace sw::admin
