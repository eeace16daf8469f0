// Owns the cluster's shared domain health records and their JSON (Boost.JSON).
// Fails by Status from the store; a record that does not parse counts as absent.
#include "alerts/shared_outage.h"

#include <boost/json.hpp>
#include <cstdio>

#include "alerts/alert_event.h"
#include "common/json_text.h"

namespace sw::alerts {

namespace json = boost::json;

namespace {

bool Object(const std::string& text, json::object* out) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return false;
  *out = std::move(v.as_object());
  return true;
}

std::string EndKey(const std::string& domain, int64_t since_ms) {
  return "outage_end/" + domain + "/" + PaddedMs(since_ms);
}
std::string RecoveredKey(const std::string& domain) { return "recovered/" + domain; }
std::string HealthPrefix(const std::string& domain) { return "health/" + domain + "/"; }

}  // namespace

std::string OutageKey(const std::string& domain) { return "outage/" + domain; }

std::string SharedOutageJson(const SharedOutage& o) {
  return json_text::Serialize(json::object{{"since_ms", o.since_ms},
                                           {"down_event_ms", o.down_event_ms},
                                           {"opened_by", o.opened_by},
                                           {"error", o.error}});
}

bool ParseSharedOutage(const std::string& text, SharedOutage* o) {
  json::object obj;
  if (!Object(text, &obj)) return false;
  o->since_ms = FieldInt(obj, "since_ms");
  o->down_event_ms = FieldInt(obj, "down_event_ms");
  o->opened_by = FieldStr(obj, "opened_by");
  o->error = FieldStr(obj, "error");
  return o->since_ms != 0;
}

SharedOutages::SharedOutages(control::ControlStore& store, std::string node)
    : store_(store), node_(std::move(node)) {}

Status SharedOutages::LoadOpen(std::map<std::string, SharedOutage>* out) {
  out->clear();
  const std::string prefix = "outage/";
  return store_.ScanPrefix(prefix, [&](const std::string& key, const std::string& text) {
    SharedOutage o;
    if (ParseSharedOutage(text, &o)) (*out)[key.substr(prefix.size())] = o;
    return true;
  });
}

Status SharedOutages::Get(const std::string& domain, SharedOutage* out) {
  std::string text;
  Status st = store_.Get(OutageKey(domain), &text);
  if (!st.ok()) return st;
  if (!ParseSharedOutage(text, out))
    return Status(Status::Code::kNotFound, "unreadable " + OutageKey(domain));
  return Status::Ok();
}

Status SharedOutages::Open(const std::string& domain, const SharedOutage& o,
                           control::ChangeSet changes, bool* applied) {
  changes.puts.push_back({OutageKey(domain), SharedOutageJson(o)});
  return store_.CommitIfAbsent(OutageKey(domain), changes, applied);
}

Status SharedOutages::Close(const std::string& domain, int64_t since_ms, int64_t up_ms,
                            bool* applied) {
  std::string end = json_text::Serialize(
      json::object{{"since_ms", since_ms}, {"up_ms", up_ms}, {"closed_by", node_}});
  control::ChangeSet cs;
  cs.puts.push_back({EndKey(domain, since_ms), end});
  cs.puts.push_back({RecoveredKey(domain), end});
  // Only this outage's record can exist now: a newer one opens after this delete at the earliest.
  cs.deletes.push_back(OutageKey(domain));
  return store_.CommitIfAbsent(EndKey(domain, since_ms), cs, applied);
}

int64_t SharedOutages::LastRecovery(const std::string& domain) {
  std::string text;
  json::object o;
  if (!store_.Get(RecoveredKey(domain), &text).ok() || !Object(text, &o)) return 0;
  return FieldInt(o, "up_ms");
}

Status SharedOutages::OthersLastOk(const std::string& domain, int64_t* ok_ms) {
  *ok_ms = 0;
  const std::string prefix = HealthPrefix(domain);
  return store_.ScanPrefix(prefix, [&](const std::string& key, const std::string& text) {
    json::object o;
    if (key.substr(prefix.size()) != node_ && Object(text, &o))
      *ok_ms = std::max(*ok_ms, FieldInt(o, "ok_ms"));
    return true;
  });
}

void SharedOutages::NoteOk(const std::string& domain, int64_t at_ms, int64_t every_ms) {
  auto w = written_.find(domain);
  if (w != written_.end() && at_ms - w->second < every_ms) return;
  pending_[domain] = at_ms;
}

Status SharedOutages::FlushHealth() {
  if (pending_.empty()) return Status::Ok();
  std::vector<control::RecordPut> puts;
  for (const auto& [domain, ok_ms] : pending_)
    puts.push_back({HealthPrefix(domain) + node_,
                    json_text::Serialize(json::object{{"ok_ms", ok_ms}, {"node", node_}})});
  Status st = store_.PutUnsynced(puts);
  if (!st.ok()) return st;  // kept for the next flush
  for (const auto& [domain, ok_ms] : pending_) written_[domain] = ok_ms;
  pending_.clear();
  return Status::Ok();
}

}  // namespace sw::alerts
