// Owns this node's cluster heartbeat: every cluster.heartbeat_interval the event loop samples
// the queue (cheap, in memory) and a thread of its own writes record n/<node> to the shared
// store, so SMTP never waits for PostgreSQL. Fails soft: a write that fails is logged once
// (event=node_heartbeat_failed) until one succeeds again (event=node_heartbeat_restored).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "control/control_store.h"
#include "control/node_status.h"

namespace sw::control {

class NodeHeartbeat {
 public:
  // Fills the queue fields of a heartbeat; called on `io`'s thread (and by Stop).
  using Sample = std::function<void(NodeStatus&)>;
  // `base` names the node (node, hostname, version, started_ms); `store` must outlive this.
  NodeHeartbeat(boost::asio::io_context& io, ControlStore& store, NodeStatus base,
                std::chrono::milliseconds interval, Sample sample);
  ~NodeHeartbeat();
  NodeHeartbeat(const NodeHeartbeat&) = delete;
  NodeHeartbeat& operator=(const NodeHeartbeat&) = delete;

  // The first heartbeat at once, then one per interval; call on `io`'s thread or before it runs.
  void Start();
  // Once `io` no longer runs (the caller's thread is the only one touching the queue): stops
  // the timer and the writer, then writes a last record marked stopped (failing soft).
  void Stop();
  // Every node's heartbeat record as this node's writer last read them (after each write of
  // its own, so at most one interval old; the previous list is kept while reads fail), as
  // ClusterNodesJson plus {"cluster": true, "read_ms"}: GET /api/v1/cluster/nodes serves it
  // without touching the store. Any thread.
  boost::json::object NodesJson() const;

 private:
  void Arm();
  void Tick();  // on io's thread: sample and hand over to the writer
  NodeStatus Take(bool stopped);
  void WriterLoop();
  bool Write(const NodeStatus& s);  // writer thread, then Stop's caller; false on failure
  void ReadView();                  // writer thread

  boost::asio::steady_timer timer_;
  ControlStore& store_;
  NodeStatus base_;
  std::chrono::milliseconds interval_;
  Sample sample_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<NodeStatus> pending_;  // the latest sample not yet written (older ones dropped)
  bool stopping_ = false;
  bool started_ = false;
  bool failing_ = false;  // the last write failed (logged once per outage)
  std::thread writer_;
  mutable std::mutex view_mu_;
  std::vector<NodeStatus> view_;  // every node, as last read
  int64_t view_ms_ = 0;           // when (0: never)
};

}  // namespace sw::control
