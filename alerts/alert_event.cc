// Owns the alert plane records' keys and their JSON (Boost.JSON).
// Fails by returning false from the parsers; never throws.
#include "alerts/alert_event.h"

#include <boost/json.hpp>
#include <cstdio>
#include <ctime>

#include "common/json_text.h"

namespace sw::alerts {

namespace json = boost::json;

namespace {

std::string Pad13(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%013lld", static_cast<long long>(v));
  return buf;
}

std::string Str(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t Int(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return 0;
}

bool Bool(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v && v->is_bool() && v->as_bool();
}

std::optional<json::object> Object(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

}  // namespace

const char* KindName(AlertKind k) {
  switch (k) {
    case AlertKind::kDown:
      return "down";
    case AlertKind::kUp:
      return "up";
    case AlertKind::kStillDown:
      return "still_down";
    case AlertKind::kTest:
      return "test";
  }
  return "down";
}

std::optional<AlertKind> ParseKind(const std::string& s) {
  for (AlertKind k : {AlertKind::kDown, AlertKind::kUp, AlertKind::kStillDown, AlertKind::kTest})
    if (s == KindName(k)) return k;
  return std::nullopt;
}

const char* ChannelName(Channel c) {
  switch (c) {
    case Channel::kEmail:
      return "email";
    case Channel::kSms:
      return "sms";
    case Channel::kWebhook:
      return "webhook";
  }
  return "email";
}

std::string EventKey(const std::string& id) { return "a/" + id; }

std::string EventId(const std::string& domain, int64_t since_ms, AlertKind kind, uint32_t n) {
  std::string id = domain + "/" + Pad13(since_ms) + "/" + KindName(kind);
  if (n > 0) id += "." + std::to_string(n);
  return id;
}

std::string OutboxKey(const std::string& id, size_t index) {
  return "o/" + id + "/" + std::to_string(index);
}

std::string IsoTime(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string EventJson(const AlertEvent& e) {
  json::array deliveries;
  for (const auto& d : e.deliveries) {
    json::object o{{"contact", d.contact},
                   {"contact_name", d.contact_name},
                   {"channel", ChannelName(d.channel)},
                   {"to", d.to},
                   {"state", d.state},
                   {"attempts", d.attempts}};
    if (!d.last_error.empty()) o["last_error"] = d.last_error;
    if (d.sent_ms) o["sent_at"] = IsoTime(d.sent_ms);
    if (d.sent_ms) o["sent_ms"] = d.sent_ms;
    deliveries.push_back(std::move(o));
  }
  json::object o{
      {"id", e.id},
      {"event", KindName(e.kind)},
      {"domain", e.domain},
      {"customer", e.customer},
      {"reseller", e.reseller},
      {"at", IsoTime(e.at_ms)},
      {"at_ms", e.at_ms},
      {"since", IsoTime(e.since_ms)},
      {"since_ms", e.since_ms},
      {"error", e.error},
      {"queue",
       {{"messages", e.queue_messages},
        {"oldest", e.oldest_ms ? json::value(IsoTime(e.oldest_ms)) : json::value(nullptr)},
        {"oldest_ms", e.oldest_ms}}},
      {"node", e.node},
      {"deliveries", std::move(deliveries)}};
  if (e.kind == AlertKind::kUp) {
    o["outage_seconds"] = e.outage_ms / 1000;
    o["outage_ms"] = e.outage_ms;
    o["delivered"] = e.delivered;
  }
  if (e.kind == AlertKind::kStillDown) o["repeat"] = e.repeat;
  return json_text::Serialize(o);
}

bool ParseEvent(const std::string& text, AlertEvent* e) {
  auto o = Object(text);
  if (!o) return false;
  auto kind = ParseKind(Str(*o, "event"));
  if (!kind) return false;
  e->id = Str(*o, "id");
  e->kind = *kind;
  e->domain = Str(*o, "domain");
  e->customer = Str(*o, "customer");
  e->reseller = Str(*o, "reseller");
  e->at_ms = Int(*o, "at_ms");
  e->since_ms = Int(*o, "since_ms");
  e->outage_ms = Int(*o, "outage_ms");
  e->delivered = static_cast<uint64_t>(Int(*o, "delivered"));
  e->repeat = static_cast<uint32_t>(Int(*o, "repeat"));
  e->error = Str(*o, "error");
  e->node = Str(*o, "node");
  if (auto* q = o->if_contains("queue"); q && q->is_object()) {
    e->queue_messages = static_cast<uint64_t>(Int(q->as_object(), "messages"));
    e->oldest_ms = Int(q->as_object(), "oldest_ms");
  }
  e->deliveries.clear();
  if (auto* ds = o->if_contains("deliveries"); ds && ds->is_array()) {
    for (const auto& dv : ds->as_array()) {
      if (!dv.is_object()) return false;
      const auto& d = dv.as_object();
      Delivery x;
      x.contact = static_cast<uint32_t>(Int(d, "contact"));
      x.contact_name = Str(d, "contact_name");
      std::string ch = Str(d, "channel");
      x.channel = ch == "sms"       ? Channel::kSms
                  : ch == "webhook" ? Channel::kWebhook
                                    : Channel::kEmail;
      x.to = Str(d, "to");
      x.state = Str(d, "state");
      x.attempts = static_cast<uint32_t>(Int(d, "attempts"));
      x.last_error = Str(d, "last_error");
      x.sent_ms = Int(d, "sent_ms");
      e->deliveries.push_back(std::move(x));
    }
  }
  return !e->id.empty();
}

std::string OutboxJson(const OutboxItem& o) {
  return json_text::Serialize(json::object{{"event", o.event_id},
                                           {"index", o.index},
                                           {"created_ms", o.created_ms},
                                           {"next_ms", o.next_ms},
                                           {"attempts", o.attempts}});
}

bool ParseOutbox(const std::string& text, OutboxItem* out) {
  auto o = Object(text);
  if (!o) return false;
  out->event_id = Str(*o, "event");
  out->index = static_cast<size_t>(Int(*o, "index"));
  out->created_ms = Int(*o, "created_ms");
  out->next_ms = Int(*o, "next_ms");
  out->attempts = static_cast<uint32_t>(Int(*o, "attempts"));
  return !out->event_id.empty();
}

std::string StateKey(const std::string& domain) { return "s/" + domain; }

std::string StateJson(const DomainAlertState& s) {
  return json_text::Serialize(json::object{{"down_since_ms", s.down_since_ms},
                                           {"down_sent", s.down_sent},
                                           {"still_down_sent", s.still_down_sent},
                                           {"down_event_ms", s.down_event_ms},
                                           {"last_up_ms", s.last_up_ms},
                                           {"error", s.error},
                                           {"period_from_ms", s.period_from_ms},
                                           {"period_state", s.period_state}});
}

bool ParseState(const std::string& text, DomainAlertState* s) {
  auto o = Object(text);
  if (!o) return false;
  s->down_since_ms = Int(*o, "down_since_ms");
  s->down_sent = Bool(*o, "down_sent");
  s->still_down_sent = static_cast<uint32_t>(Int(*o, "still_down_sent"));
  s->down_event_ms = Int(*o, "down_event_ms");
  s->last_up_ms = Int(*o, "last_up_ms");
  s->error = Str(*o, "error");
  s->period_from_ms = Int(*o, "period_from_ms");
  s->period_state = Str(*o, "period_state");
  return true;
}

std::string PeriodKey(const std::string& domain, int64_t from_ms) {
  return "h/" + domain + "/" + Pad13(from_ms);
}

std::string PeriodJson(const StatusPeriod& p) {
  return json_text::Serialize(
      json::object{{"domain", p.domain},
                   {"state", p.state},
                   {"from", IsoTime(p.from_ms)},
                   {"from_ms", p.from_ms},
                   {"until", p.until_ms ? json::value(IsoTime(p.until_ms)) : json::value(nullptr)},
                   {"until_ms", p.until_ms},
                   {"detail", p.detail}});
}

bool ParsePeriod(const std::string& text, StatusPeriod* p) {
  auto o = Object(text);
  if (!o) return false;
  p->domain = Str(*o, "domain");
  p->state = Str(*o, "state");
  p->from_ms = Int(*o, "from_ms");
  p->until_ms = Int(*o, "until_ms");
  p->detail = Str(*o, "detail");
  return !p->domain.empty();
}

}  // namespace sw::alerts
