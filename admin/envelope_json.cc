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

void WriteMessage(JsonWriter& w, const queue::Envelope& env, bool detail) {
  w.BeginObject();
  w.Field("id", env.id);
  w.Field("arrival", Rfc3339(env.arrival_ms));
  w.Field("size", env.size);
  w.Field("sender", env.sender);
  w.Key("recipients").BeginArray();
  for (const auto& r : env.recipients) {
    w.BeginObject();
    w.Field("address", r.address);
    w.Field("domain", r.domain);
    w.Field("state", RcptStateName(r.state));
    w.Field("last_reply", r.last_reply);
    w.EndObject();
  }
  w.EndArray();
  w.Field("attempts", env.attempts);
  w.Key("next_attempt");
  if (env.next_attempt_ms > 0) {
    w.String(Rfc3339(env.next_attempt_ms));
  } else {
    w.Null();
  }
  w.Field("last_error", env.last_error);
  w.Field("held", env.held);
  if (detail) {
    w.Field("client_ip", env.client_ip);
    w.Field("helo", env.helo);
    w.Field("smtputf8", env.smtputf8);
    w.Field("eightbit", env.eightbit);
    w.Field("delay_warned", env.delay_warned);
  }
  w.EndObject();
}

void WriteDomainSummary(JsonWriter& w, const queue::DomainSummary& s, int64_t now_ms) {
  w.BeginObject();
  w.Field("domain", s.domain);
  w.Field("up", s.up);
  w.Field("messages", s.messages);
  w.Field("bytes", s.bytes);
  w.Field("held", s.held);
  w.Key("oldest");
  if (s.oldest_arrival_ms > 0) {
    w.String(Rfc3339(s.oldest_arrival_ms));
    w.Field("oldest_age_seconds", static_cast<int64_t>(now_ms > s.oldest_arrival_ms
                                                           ? (now_ms - s.oldest_arrival_ms) / 1000
                                                           : 0));
  } else {
    w.Null();
    w.Key("oldest_age_seconds").Null();
  }
  w.Key("age_buckets").BeginObject();
  for (int i = 0; i < 6; ++i) w.Field(kAgeBucketNames[i], s.age_buckets[i]);
  w.EndObject();
  w.EndObject();
}

}  // namespace sw::admin
