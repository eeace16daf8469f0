// Owns a cluster node's heartbeat record (key n/<node>): what `spamweeder cluster status` shows
// of each node, its JSON form and the up/stale/stopped rule. Fails soft: a record that does not
// parse is reported as such, never thrown.
#include "control/node_status.h"

#include <boost/json.hpp>

#include "control/field_error.h"

namespace sw::control {

namespace json = boost::json;

namespace {

int64_t Int(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return 0;
}

uint64_t Count(const json::object& o, const char* key) {
  int64_t v = Int(o, key);
  return v > 0 ? static_cast<uint64_t>(v) : 0;
}

std::string Text(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

}  // namespace

std::string NodeKey(const std::string& node) { return kNodePrefix + node; }

std::string NodeStatusJson(const NodeStatus& s) {
  json::object queue{{"messages", s.messages},
                     {"bytes", s.bytes},
                     {"oldest_arrival_ms", s.oldest_arrival_ms},
                     {"held", s.held},
                     {"domains_down", s.domains_down}};
  json::object o{{"node", s.node},
                 {"hostname", s.hostname},
                 {"version", s.version},
                 {"started_ms", s.started_ms},
                 {"heartbeat_ms", s.heartbeat_ms},
                 {"interval_ms", s.interval_ms},
                 {"stopped", s.stopped},
                 {"queue", std::move(queue)}};
  return json::serialize(o);
}

std::optional<NodeStatus> ParseNodeStatus(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  NodeStatus s;
  s.node = Text(o, "node");
  if (s.node.empty()) return std::nullopt;
  s.hostname = Text(o, "hostname");
  s.version = Text(o, "version");
  s.started_ms = Int(o, "started_ms");
  s.heartbeat_ms = Int(o, "heartbeat_ms");
  s.interval_ms = Int(o, "interval_ms");
  const json::value* stopped = o.if_contains("stopped");
  s.stopped = stopped && stopped->is_bool() && stopped->get_bool();
  const json::value* q = o.if_contains("queue");
  if (q && q->is_object()) {
    const json::object& qo = q->get_object();
    s.messages = Count(qo, "messages");
    s.bytes = Count(qo, "bytes");
    s.oldest_arrival_ms = Int(qo, "oldest_arrival_ms");
    s.held = Count(qo, "held");
    s.domains_down = Count(qo, "domains_down");
  }
  return s;
}

const char* NodeState(const NodeStatus& s, int64_t now_ms) {
  if (s.stopped) return "stopped";
  int64_t interval = s.interval_ms > 0 ? s.interval_ms : 5000;
  return now_ms - s.heartbeat_ms > kStaleIntervals * interval ? "stale" : "up";
}

namespace {

json::object NodeJson(const NodeStatus& s, int64_t now) {
  json::object q{{"messages", s.messages},
                 {"bytes", s.bytes},
                 {"held", s.held},
                 {"domains_down", s.domains_down},
                 {"oldest_arrival_ms", s.oldest_arrival_ms}};
  q["oldest_age_ms"] = s.oldest_arrival_ms > 0 ? json::value(now - s.oldest_arrival_ms) : nullptr;
  return {{"node", s.node},
          {"state", NodeState(s, now)},
          {"hostname", s.hostname},
          {"version", s.version},
          {"started", IsoTime(s.started_ms)},
          {"heartbeat", IsoTime(s.heartbeat_ms)},
          {"heartbeat_ms", s.heartbeat_ms},
          {"heartbeat_age_ms", now - s.heartbeat_ms},
          {"interval_ms", s.interval_ms},
          {"queue", std::move(q)}};
}

}  // namespace

json::object ClusterNodesJson(const std::vector<NodeStatus>& nodes, int64_t now_ms) {
  json::array list;
  for (const auto& s : nodes) list.push_back(NodeJson(s, now_ms));
  return {{"now_ms", now_ms}, {"nodes", std::move(list)}};
}

}  // namespace sw::control
