// Owns the portal's sign-in sessions: random session ids (stored only as SHA-256), a CSRF token
// per session, idle and absolute expiry, and the failed-sign-in limit per client address.
// Fails by value: an unknown, expired or ended session is nullopt; nothing throws.
#include "admin/portal_sessions.h"

#include "control/control_plane.h"

namespace sw::admin {

namespace {
std::string Hash(std::string_view s) { return control::ControlPlane::HashToken(s); }
}  // namespace

std::string PortalSessions::Create(PortalSession session, Clock::time_point now) {
  Sweep(now);
  while (sessions_.size() >= kPortalMaxSessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
      if (it->second.created < oldest->second.created) oldest = it;
    sessions_.erase(oldest);
  }
  std::string id = control::ControlPlane::RandomUrlSafe(32);
  sessions_[Hash(id)] = Entry{std::move(session), now, now};
  return id;
}

std::optional<PortalSession> PortalSessions::Find(const std::string& cookie_value,
                                                  Clock::time_point now) {
  if (cookie_value.empty()) return std::nullopt;
  auto it = sessions_.find(Hash(cookie_value));
  if (it == sessions_.end()) return std::nullopt;
  if (now - it->second.last_seen > kPortalSessionIdle ||
      now - it->second.created > kPortalSessionMax) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_seen = now;
  return it->second.session;
}

void PortalSessions::End(const std::string& cookie_value) { sessions_.erase(Hash(cookie_value)); }

void PortalSessions::Sweep(Clock::time_point now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    bool dead = now - it->second.last_seen > kPortalSessionIdle ||
                now - it->second.created > kPortalSessionMax;
    it = dead ? sessions_.erase(it) : std::next(it);
  }
  for (auto it = failures_.begin(); it != failures_.end();)
    it = now - it->second.window_start > kPortalSignInWindow ? failures_.erase(it) : std::next(it);
}

unsigned PortalSessions::SignInWait(const std::string& client, Clock::time_point now) {
  auto it = failures_.find(client);
  if (it == failures_.end() || it->second.count < kPortalSignInFailures) return 0;
  auto end = it->second.window_start + kPortalSignInWindow;
  if (now >= end) {
    failures_.erase(it);
    return 0;
  }
  return static_cast<unsigned>(std::chrono::duration_cast<std::chrono::seconds>(end - now).count() +
                               1);
}

void PortalSessions::SignInFailed(const std::string& client, Clock::time_point now) {
  if (failures_.size() >= kPortalMaxSessions) Sweep(now);
  Failures& f = failures_[client];
  if (f.count == 0 || now - f.window_start > kPortalSignInWindow) f = {0, now};
  ++f.count;
}

std::string PortalSessions::CookieValue(const std::string& header, std::string_view name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string_view part(header.data() + pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=')
      return std::string(part.substr(name.size() + 1));
    pos = end + 1;
  }
  return "";
}

}  // namespace sw::admin
