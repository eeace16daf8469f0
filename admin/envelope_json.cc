// Owns the JSON shapes of queue data in the admin API: messages, recipients, domain summaries.
// Cannot fail: every field is written, absent times as null.
#include "admin/envelope_json.h"

#include <ctime>

namespace sw::admin {

std::string Rfc3339(int64_t epoch_ms) {
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const char* RcptStateName(queue::RcptState s) {
  switch (s) {
    case queue::RcptState::kPending:
      return "pending";
    case queue::RcptState::kDelivered:
      return "delivered";
    case queue::RcptState::kFailed:
      return "failed";
  }
  return "pending";
}

boost::json::object MessageJson(const queue::Envelope& env, bool detail) {
  boost::json::array recipients;
  for (const auto& r : env.recipients) {
    recipients.push_back(boost::json::object{{"address", r.address},
                                             {"domain", r.domain},
                                             {"state", RcptStateName(r.state)},
                                             {"last_reply", r.last_reply}});
  }
  boost::json::object o;
  o["id"] = env.id;
  o["arrival"] = Rfc3339(env.arrival_ms);
  o["size"] = env.size;
  o["sender"] = env.sender;
  o["recipients"] = std::move(recipients);
  o["attempts"] = env.attempts;
  o["next_attempt"] = env.next_attempt_ms > 0 ? boost::json::value(Rfc3339(env.next_attempt_ms))
                                              : boost::json::value(nullptr);
  o["last_error"] = env.last_error;
  o["held"] = env.held;
  if (detail) {
    o["client_ip"] = env.client_ip;
    o["helo"] = env.helo;
    o["smtputf8"] = env.smtputf8;
    o["eightbit"] = env.eightbit;
    o["delay_warned"] = env.delay_warned;
  }
  return o;
}

boost::json::object DomainSummaryJson(const queue::DomainSummary& s, int64_t now_ms) {
  boost::json::object o;
  o["domain"] = s.domain;
  o["up"] = s.up;
  o["messages"] = s.messages;
  o["bytes"] = s.bytes;
  o["held"] = s.held;
  if (s.oldest_arrival_ms > 0) {
    o["oldest"] = Rfc3339(s.oldest_arrival_ms);
    o["oldest_age_seconds"] = static_cast<int64_t>(
        now_ms > s.oldest_arrival_ms ? (now_ms - s.oldest_arrival_ms) / 1000 : 0);
  } else {
    o["oldest"] = nullptr;
    o["oldest_age_seconds"] = nullptr;
  }
  boost::json::object buckets;
  for (int i = 0; i < 6; ++i) buckets[kAgeBucketNames[i]] = s.age_buckets[i];
  o["age_buckets"] = std::move(buckets);
  return o;
}

}  // namespace sw::admin
