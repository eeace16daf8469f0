// Owns the JSON shapes of queue data in the admin API: messages, recipients, domain summaries.
// Cannot fail: every field is written, absent times as null.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>

#include "queue/envelope.h"
#include "queue/relay_queue.h"

namespace sw::admin {

// "2026-11-27T19:56:07Z" (UTC, whole seconds) for unix epoch milliseconds.
std::string Rfc3339(int64_t epoch_ms);
const char* RcptStateName(queue::RcptState s);

// {"id","arrival","size","sender","recipients":[{"address","domain","state","last_reply"}],
//  "attempts","next_attempt","last_error","held"}; `detail` adds client_ip, helo, smtputf8,
// eightbit and delay_warned. Strings are copied as they are (replies and HELO may hold invalid
// UTF-8): write the object with json_text::Serialize.
boost::json::object MessageJson(const queue::Envelope& env, bool detail);

// {"domain","up","messages","bytes","held","oldest","oldest_age_seconds",
//  "age_buckets":{"5m","1h","4h","1d","7d","older"}} with ages relative to `now_ms`.
boost::json::object DomainSummaryJson(const queue::DomainSummary& s, int64_t now_ms);

// Labels of DomainSummary::age_buckets, in order: "5m" means "younger than 5 minutes".
inline constexpr const char* kAgeBucketNames[6] = {"5m", "1h", "4h", "1d", "7d", "older"};

}  // namespace sw::admin
