// Owns the queued message's envelope: sender, per-recipient state and scheduling fields.
// Plain data; encoding and its failures live in record_codec.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sw::queue {

enum class RcptState : uint8_t { kPending = 0, kDelivered = 1, kFailed = 2 };

struct RecipientState {
  std::string address;  // as given in RCPT TO, without brackets
  std::string domain;   // lower-cased served domain it belongs to
  RcptState state = RcptState::kPending;
  std::string last_reply;  // last reply or error seen for it
};

struct Envelope {
  std::string id;          // queue ID, ordered by arrival
  int64_t arrival_ms = 0;  // unix epoch milliseconds
  std::string sender;      // empty: null sender
  std::vector<RecipientState> recipients;
  uint64_t size = 0;  // stored body bytes
  std::string client_ip;
  std::string helo;
  bool smtputf8 = false;
  bool eightbit = false;
  uint32_t attempts = 0;
  int64_t next_attempt_ms = 0;  // 0: as soon as possible
  std::string last_error;
  bool held = false;
  bool delay_warned = false;
  // The filters tagged it as spam: never a DSN for it (no backscatter), failures are dropped.
  bool spam_tagged = false;

  bool HasPending() const {
    for (const auto& r : recipients)
      if (r.state == RcptState::kPending) return true;
    return false;
  }
};

}  // namespace sw::queue
