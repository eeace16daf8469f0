// Owns a cluster node's heartbeat record (key n/<node>): what `spamweeder cluster status` shows
// of each node, its JSON form and the up/stale/stopped rule. Fails soft: a record that does not
// parse is reported as such, never thrown.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sw::control {

// Heartbeat records: "n/<node>" (not a tenant, token or domain record: writing one raises no
// change version, so no node re-reads the control plane for it).
inline constexpr const char* kNodePrefix = "n/";
std::string NodeKey(const std::string& node);

// A node silent for more than this many of its own heartbeat intervals is stale.
inline constexpr int64_t kStaleIntervals = 3;

struct NodeStatus {
  std::string node;      // cluster.node
  std::string hostname;  // server.hostname
  std::string version;   // the gateway's version
  int64_t started_ms = 0;
  int64_t heartbeat_ms = 0;  // when written (the node's clock, unix epoch ms)
  int64_t interval_ms = 0;   // the node's cluster.heartbeat_interval
  bool stopped = false;      // written at a clean stop (SIGTERM/SIGINT)
  // The node's queue (queue::QueueTotals) as of heartbeat_ms.
  uint64_t messages = 0;
  uint64_t bytes = 0;
  int64_t oldest_arrival_ms = 0;  // 0: empty
  uint64_t held = 0;
  uint64_t domains_down = 0;
};

std::string NodeStatusJson(const NodeStatus& s);
// nullopt when `json` is not a heartbeat record.
std::optional<NodeStatus> ParseNodeStatus(const std::string& json);

// "stopped" after a clean stop, "stale" when the last heartbeat is older than kStaleIntervals
// intervals at `now_ms`, else "up".
const char* NodeState(const NodeStatus& s, int64_t now_ms);

// What `cluster status --json` and GET /api/v1/cluster/nodes show: {"now_ms", "nodes": [{"node",
// "state", "hostname", "version", "started", "heartbeat", "heartbeat_ms", "heartbeat_age_ms",
// "interval_ms", "queue": {"messages", "bytes", "held", "domains_down", "oldest_arrival_ms",
// "oldest_age_ms" (null when empty)}}]}, ages and states as of `now_ms`.
boost::json::object ClusterNodesJson(const std::vector<NodeStatus>& nodes, int64_t now_ms);

}  // namespace sw::control
