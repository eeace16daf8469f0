// Owns the alert plane records' keys and their JSON (Boost.JSON).
// Fails by returning false from the parsers; never throws.
#include "alerts/alert_event.h"

#include <boost/json.hpp>
#include <cstdio>
#include <ctime>

#include "common/json_text.h"

namespace sw::alerts {

namespace json = boost::json;

std::string PaddedMs(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%013lld", static_cast<long long>(v));
  return buf;
}

std::string FieldStr(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t FieldInt(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return 0;
}

namespace {

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
  std::string id = domain + "/" + PaddedMs(since_ms) + "/" + KindName(kind);
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
  auto kind = ParseKind(FieldStr(*o, "event"));
  if (!kind) return false;
  e->id = FieldStr(*o, "id");
  e->kind = *kind;
  e->domain = FieldStr(*o, "domain");
  e->customer = FieldStr(*o, "customer");
  e->reseller = FieldStr(*o, "reseller");
  e->at_ms = FieldInt(*o, "at_ms");
  e->since_ms = FieldInt(*o, "since_ms");
  e->outage_ms = FieldInt(*o, "outage_ms");
  e->delivered = static_cast<uint64_t>(FieldInt(*o, "delivered"));
  e->repeat = static_cast<uint32_t>(FieldInt(*o, "repeat"));
  e->error = FieldStr(*o, "error");
  e->node = FieldStr(*o, "node");
  if (auto* q = o->if_contains("queue"); q && q->is_object()) {
    e->queue_messages = static_cast<uint64_t>(FieldInt(q->as_object(), "messages"));
    e->oldest_ms = FieldInt(q->as_object(), "oldest_ms");
  }
  e->deliveries.clear();
  if (auto* ds = o->if_contains("deliveries"); ds && ds->is_array()) {
    for (const auto& dv : ds->as_array()) {
      if (!dv.is_object()) return false;
      const auto& d = dv.as_object();
      Delivery x;
      x.contact = static_cast<uint32_t>(FieldInt(d, "contact"));
      x.contact_name = FieldStr(d, "contact_name");
      std::string ch = FieldStr(d, "channel");
      x.channel = ch == "sms"       ? Channel::kSms
                  : ch == "webhook" ? Channel::kWebhook
                                    : Channel::kEmail;
      x.to = FieldStr(d, "to");
      x.state = FieldStr(d, "state");
      x.attempts = static_cast<uint32_t>(FieldInt(d, "attempts"));
      x.last_error = FieldStr(d, "last_error");
      x.sent_ms = FieldInt(d, "sent_ms");
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
  out->event_id = FieldStr(*o, "event");
  out->index = static_cast<size_t>(FieldInt(*o, "index"));
  out->created_ms = FieldInt(*o, "created_ms");
  out->next_ms = FieldInt(*o, "next_ms");
  out->attempts = static_cast<uint32_t>(FieldInt(*o, "attempts"));
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
  s->down_since_ms = FieldInt(*o, "down_since_ms");
  s->down_sent = Bool(*o, "down_sent");
  s->still_down_sent = static_cast<uint32_t>(FieldInt(*o, "still_down_sent"));
  s->down_event_ms = FieldInt(*o, "down_event_ms");
  s->last_up_ms = FieldInt(*o, "last_up_ms");
  s->error = FieldStr(*o, "error");
  s->period_from_ms = FieldInt(*o, "period_from_ms");
  s->period_state = FieldStr(*o, "period_state");
  return true;
}

std::string PeriodKey(const std::string& domain, int64_t from_ms) {
  return "h/" + domain + "/" + PaddedMs(from_ms);
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
  p->domain = FieldStr(*o, "domain");
  p->state = FieldStr(*o, "state");
  p->from_ms = FieldInt(*o, "from_ms");
  p->until_ms = FieldInt(*o, "until_ms");
  p->detail = FieldStr(*o, "detail");
  return !p->domain.empty();
}

}  // namespace sw::alerts
