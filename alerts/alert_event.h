// Owns the alert plane's records: an alert event with its per-contact deliveries, the outbox
// item that drives one delivery, a domain's alert state, and their store keys and JSON.
// Fails by returning false from the readers (a record that does not parse).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sw::alerts {

enum class AlertKind { kDown, kUp, kStillDown, kTest };
const char* KindName(AlertKind k);
std::optional<AlertKind> ParseKind(const std::string& s);

enum class Channel { kEmail, kSms, kWebhook };
const char* ChannelName(Channel c);

// One contact's copy of an event on one channel.
struct Delivery {
  uint32_t contact = 0;  // index into the customer's contacts when the event was made
  std::string contact_name;
  Channel channel = Channel::kEmail;
  std::string to;                 // address, phone number or webhook URL
  std::string state = "pending";  // pending, sent, failed
  uint32_t attempts = 0;
  std::string last_error;
  int64_t sent_ms = 0;
};

struct AlertEvent {
  std::string id;  // "<domain>/<since:013>/<kind>[.<n>]": the idempotency key of the event
  AlertKind kind = AlertKind::kDown;
  std::string domain, customer, reseller;
  int64_t at_ms = 0;       // when the event was made
  int64_t since_ms = 0;    // the outage's first failure (test: at_ms)
  int64_t outage_ms = 0;   // up: the outage's length
  uint64_t delivered = 0;  // up: queued messages delivered since the recovery
  uint32_t repeat = 0;     // still_down: 1, 2, ...
  std::string error;       // the last probe or delivery error
  uint64_t queue_messages = 0;
  int64_t oldest_ms = 0;
  std::string node;  // the gateway that made it
  std::vector<Delivery> deliveries;
};

// "a/<id>": the event (history, and the guard that makes it once).
// Field helpers of the alert records (events, state, shared outages): a millisecond time as 13
// digits (keys sort by time), a string or integer field ("" / 0 when absent or of another type).
std::string PaddedMs(int64_t v);
std::string FieldStr(const boost::json::object& o, const char* k);
int64_t FieldInt(const boost::json::object& o, const char* k);

std::string EventKey(const std::string& id);
std::string EventId(const std::string& domain, int64_t since_ms, AlertKind kind, uint32_t n);
// "o/<id>/<index>": one pending delivery.
std::string OutboxKey(const std::string& id, size_t index);

std::string EventJson(const AlertEvent& e);
bool ParseEvent(const std::string& json, AlertEvent* e);

struct OutboxItem {
  std::string event_id;
  size_t index = 0;  // into the event's deliveries
  int64_t created_ms = 0;
  int64_t next_ms = 0;
  uint32_t attempts = 0;
};
std::string OutboxJson(const OutboxItem& o);
bool ParseOutbox(const std::string& json, OutboxItem* o);

// A domain's outage as the alert engine tracks it ("s/<domain>"), synced on every change so
// a restart neither forgets an outage nor alerts it twice.
struct DomainAlertState {
  int64_t down_since_ms = 0;  // 0: up
  bool down_sent = false;     // the `down` event of this outage exists
  uint32_t still_down_sent = 0;
  int64_t down_event_ms = 0;  // when `down` was made (still_down counts from it)
  int64_t last_up_ms = 0;     // when the last `up` event was made (flap damping)
  std::string error;
  int64_t period_from_ms = 0;  // the open status-history period ("h/<domain>/<from>")
  std::string period_state;    // its state, "up" or "down"; "" before the first
};
std::string StateKey(const std::string& domain);
std::string StateJson(const DomainAlertState& s);
bool ParseState(const std::string& json, DomainAlertState* s);

// "h/<domain>/<from:013>": one up or down period of a domain (status history).
struct StatusPeriod {
  std::string domain;
  std::string state;                  // "down" or "up"
  int64_t from_ms = 0, until_ms = 0;  // until 0: still open
  std::string detail;                 // the error (down) or the relay that answered (up)
};
std::string PeriodKey(const std::string& domain, int64_t from_ms);
std::string PeriodJson(const StatusPeriod& p);
bool ParsePeriod(const std::string& json, StatusPeriod* p);

std::string IsoTime(int64_t unix_ms);  // "2026-11-30T08:21:36Z"

}  // namespace sw::alerts
