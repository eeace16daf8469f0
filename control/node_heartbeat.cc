// Owns this node's cluster heartbeat: every cluster.heartbeat_interval the event loop samples
// the queue (cheap, in memory) and a thread of its own writes record n/<node> to the shared
// store, so SMTP never waits for PostgreSQL. Fails soft: a write that fails is logged once
// (event=node_heartbeat_failed) until one succeeds again (event=node_heartbeat_restored).
#include "control/node_heartbeat.h"

#include "common/log.h"

namespace sw::control {

namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

NodeHeartbeat::NodeHeartbeat(boost::asio::io_context& io, ControlStore& store, NodeStatus base,
                             std::chrono::milliseconds interval, Sample sample)
    : timer_(io),
      store_(store),
      base_(std::move(base)),
      interval_(interval),
      sample_(std::move(sample)) {
  base_.interval_ms = interval_.count();
}

NodeHeartbeat::~NodeHeartbeat() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void NodeHeartbeat::Start() {
  if (started_) return;
  started_ = true;
  writer_ = std::thread([this] { WriterLoop(); });
  log::Info("node_heartbeat_started").kv("node", base_.node).kv("interval_ms", interval_.count());
  Tick();
}

void NodeHeartbeat::Arm() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Tick();
  });
}

NodeStatus NodeHeartbeat::Take(bool stopped) {
  NodeStatus s = base_;
  if (sample_) sample_(s);
  s.heartbeat_ms = WallMs();
  s.stopped = stopped;
  return s;
}

void NodeHeartbeat::Tick() {
  NodeStatus s = Take(false);
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    pending_ = std::move(s);
  }
  cv_.notify_all();
  Arm();
}

void NodeHeartbeat::WriterLoop() {
  for (;;) {
    NodeStatus s;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || pending_.has_value(); });
      if (stopping_) return;
      s = std::move(*pending_);
      pending_.reset();
    }
    if (Write(s)) ReadView();
  }
}

bool NodeHeartbeat::Write(const NodeStatus& s) {
  Status st = store_.PutUnsynced({{NodeKey(s.node), NodeStatusJson(s)}});
  if (!st.ok()) {
    if (!failing_) log::Warn("node_heartbeat_failed").kv("node", s.node).kv("detail", st.message());
    failing_ = true;
    return false;
  }
  if (failing_) log::Info("node_heartbeat_restored").kv("node", s.node);
  failing_ = false;
  return true;
}

void NodeHeartbeat::ReadView() {
  std::vector<NodeStatus> nodes;
  Status st = store_.ScanPrefix(kNodePrefix, [&](const std::string&, const std::string& text) {
    if (auto s = ParseNodeStatus(text)) nodes.push_back(std::move(*s));
    return true;
  });
  if (!st.ok()) return;  // the write just succeeded: rare, and the last view stays
  std::lock_guard lock(view_mu_);
  view_ = std::move(nodes);
  view_ms_ = WallMs();
}

boost::json::object NodeHeartbeat::NodesJson() const {
  std::lock_guard lock(view_mu_);
  boost::json::object o = ClusterNodesJson(view_, WallMs());
  o["cluster"] = true;
  o["read_ms"] = view_ms_;
  return o;
}

void NodeHeartbeat::Stop() {
  if (!started_) return;
  started_ = false;
  timer_.cancel();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    pending_.reset();
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  Write(Take(true));
}

}  // namespace sw::control
