// Owns `spamweeder cluster status -c FILE [--json]`: the nodes of a cluster as their heartbeat
// records (n/<node>) in the shared PostgreSQL store show them, with their queues.
// Fails by exit status: 1 database unreachable or failing, 2 usage or config error or no
// cluster.store (the embedded store has one node, this one). Never throws.
#include "control/cluster_status_command.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <ostream>

#include "config/config.h"
#include "control/control_store_factory.h"
#include "control/field_error.h"
#include "control/node_status.h"
#include "control/postgres_control_store.h"

namespace sw::control {

namespace json = boost::json;

namespace {

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "45s", "12m05s", "3h07m", "2d04h"; "-" for none.
std::string Age(int64_t ms) {
  if (ms < 0) ms = 0;
  int64_t s = ms / 1000;
  auto two = [](int64_t v) { return (v < 10 ? "0" : "") + std::to_string(v); };
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + two(s % 60) + "s";
  if (s < 86400) return std::to_string(s / 3600) + "h" + two(s / 60 % 60) + "m";
  return std::to_string(s / 86400) + "d" + two(s / 3600 % 24) + "h";
}

void PrintText(const std::vector<NodeStatus>& nodes, int64_t now, std::ostream& out) {
  if (nodes.empty()) {
    out << "no node has written a heartbeat yet\n";
    return;
  }
  std::vector<std::vector<std::string>> rows{{"NODE", "STATE", "LAST HEARTBEAT", "AGE", "MESSAGES",
                                              "BYTES", "OLDEST", "HELD", "DOMAINS DOWN"}};
  for (const auto& s : nodes)
    rows.push_back({s.node, NodeState(s, now), IsoTime(s.heartbeat_ms), Age(now - s.heartbeat_ms),
                    std::to_string(s.messages), std::to_string(s.bytes),
                    s.oldest_arrival_ms > 0 ? Age(now - s.oldest_arrival_ms) : "-",
                    std::to_string(s.held), std::to_string(s.domains_down)});
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

// Every heartbeat record in the store, in node-name order.
Status ReadNodes(ControlStore& store, std::vector<NodeStatus>* nodes, std::ostream& err) {
  return store.ScanPrefix(kNodePrefix, [&](const std::string& key, const std::string& text) {
    auto s = ParseNodeStatus(text);
    if (s)
      nodes->push_back(std::move(*s));
    else
      err << key << ": not a heartbeat record (ignored)\n";
    return true;
  });
}

int StatusCommand(const std::string& path, bool as_json, std::ostream& out, std::ostream& err) {
  config::Config config;
  try {
    config = config::LoadConfig(path);
  } catch (const config::ConfigError& e) {
    for (const auto& p : e.problems()) err << p << "\n";
    return kUsage;
  }
  if (config.cluster.store.empty()) {
    err << path << ": not a cluster: cluster.store is not set, so this gateway is the only node"
        << " (its queue: spamweeder queue -c " << path << " summary)\n";
    return kUsage;
  }
  Status st;
  auto store = PostgresControlStore::Connect(config.cluster.store, &st);
  std::vector<NodeStatus> nodes;
  if (store) st = ReadNodes(*store, &nodes, err);
  if (!store || !st.ok()) {
    err << "cluster status " << ControlStoreLocation(config) << ": " << st.message() << "\n";
    return kFailed;
  }
  int64_t now = WallMs();
  if (!as_json) {
    PrintText(nodes, now, out);
    return kOk;
  }
  out << json::serialize(ClusterNodesJson(nodes, now)) << "\n";
  return kOk;
}

}  // namespace

int ClusterCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string path;
  bool as_json = false, ok = !args.empty() && args[0] == "status";
  for (size_t i = 1; ok && i < args.size(); ++i) {
    if (args[i] == "--json")
      as_json = true;
    else if ((args[i] == "-c" || args[i] == "--config") && i + 1 < args.size())
      path = args[++i];
    else
      ok = false;
  }
  if (!ok || path.empty()) {
    err << "usage: spamweeder cluster status -c FILE [--json]\n";
    return kUsage;
  }
  return StatusCommand(path, as_json, out, err);
}

}  // namespace sw::control
