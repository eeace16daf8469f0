// Durability under kill -9 (SPEC section 5): every message that got its 250 is delivered after
// restarts on the same queue, duplicates allowed. Fails listing each acknowledged message lost.
#include <atomic>
#include <csignal>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/smtp_client.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {
namespace {

constexpr int kClients = 20;
constexpr int kCycles = 3;
constexpr int kAcksBeforeKill = 40;  // per cycle: the kill lands while clients are busy
constexpr int kMessagesPerSession = 4;

// What the client threads learned: the messages the gateway acknowledged with a 250.
struct Ledger {
  std::mutex mu;
  std::map<std::string, std::string> acked;  // marker -> queue ID
  std::map<std::string, std::string> sent;   // marker -> data (unstuffed), acknowledged only
  std::atomic<int> acks{0};
};

// Sends messages over fresh sessions until `stop` or until the gateway goes away.
void ClientLoop(uint16_t port, int cycle, int client, const std::atomic<bool>& stop,
                Ledger& ledger) {
  int n = 0;
  while (!stop) {
    SmtpClient c;
    if (!c.Connect(port, 2s)) return;
    auto greet = c.ReadReply(5s);
    if (!greet || greet->code != 220) return;
    auto ehlo = c.Command("EHLO client" + std::to_string(client) + ".test", 5s);
    if (!ehlo || ehlo->code != 250) return;
    for (int k = 0; k < kMessagesPerSession && !stop; ++k, ++n) {
      std::string marker = "kill-c" + std::to_string(cycle) + "-t" + std::to_string(client) + "-m" +
                           std::to_string(n);
      unsigned seed = static_cast<unsigned>(cycle * 100000 + client * 1000 + n);
      std::string data = SimpleMessage(marker, FillerBody(1000 + seed % 4000, seed));
      auto mail = c.Command("MAIL FROM:<sender" + std::to_string(client) + "@client.test>", 5s);
      if (!mail || mail->code != 250) return;
      auto rcpt = c.Command("RCPT TO:<user" + std::to_string(client) + "@example.com>", 5s);
      if (!rcpt || rcpt->code != 250) return;
      auto go = c.Command("DATA", 5s);
      if (!go || go->code != 354) return;
      if (!c.Send(DotStuff(data) + ".\r\n")) return;
      auto done = c.ReadReply(10s);
      if (!done) return;
      std::string id = QueueIdFromReply(*done);
      if (id.empty()) return;
      std::lock_guard<std::mutex> lock(ledger.mu);
      ledger.acked[marker] = id;
      ledger.sent[marker] = std::move(data);
      ++ledger.acks;
    }
    c.Command("QUIT", 2s);
  }
}

// The marker of a delivered copy: the Message-ID's local part.
std::string MarkerOf(const std::string& data) {
  size_t p = data.find("\r\nMessage-ID: <");
  if (p == std::string::npos) return "";
  p += 15;
  size_t at = data.find('@', p);
  return at == std::string::npos ? "" : data.substr(p, at - p);
}

TEST_F(GatewayTest, KillNineWhileTwentyClientsSendLosesNothing) {
  GatewayOptions o = DefaultOptions();
  o.max_connections_per_ip = 200;  // the clients reconnect often
  ASSERT_TRUE(StartGateway(o));
  const uint16_t sink_port = sink_.port();
  Ledger ledger;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    // Cycle 1 runs with the destination down, so the kill hits a queue with a backlog of
    // deferred messages, not only messages in flight; cycle 2 brings it back.
    if (cycle == 1) sink_.Stop();
    if (cycle == 2) {
      std::string error;
      ASSERT_TRUE(sink_.Start(sink_port, &error)) << error;
    }
    std::atomic<bool> stop{false};
    int acks_before = ledger.acks;
    std::vector<std::thread> clients;
    for (int t = 0; t < kClients; ++t)
      clients.emplace_back(ClientLoop, gw_->port(), cycle, t, std::cref(stop), std::ref(ledger));
    const int kill_after = kAcksBeforeKill * (cycle + 1);  // a different point each cycle
    bool busy = PollUntil([&] { return ledger.acks - acks_before >= kill_after; }, 60s);
    ExitStatus st = gw_->Kill9();
    stop = true;
    for (auto& t : clients) t.join();
    EXPECT_TRUE(busy) << "only " << ledger.acks - acks_before << " messages acknowledged";
    EXPECT_EQ(st.signal, SIGKILL) << st.ToString();
    ASSERT_TRUE(gw_->Start()) << "restart " << cycle + 1 << " on the same queue failed";
  }

  std::map<std::string, std::string> acked, sent;
  {
    std::lock_guard<std::mutex> lock(ledger.mu);
    acked = ledger.acked;
    sent = ledger.sent;
  }
  std::set<std::string> delivered;
  auto all_delivered = [&] {
    delivered.clear();
    for (const auto& m : sink_.Messages()) delivered.insert(MarkerOf(m.data));
    for (const auto& [marker, id] : acked)
      if (!delivered.count(marker)) return false;
    return true;
  };
  bool complete = PollUntil(all_delivered, 60s);
  std::string missing;
  size_t n_missing = 0;
  for (const auto& [marker, id] : acked)
    if (!delivered.count(marker)) {
      ++n_missing;
      missing += "  " + marker + " queued as " + id + "\n";
    }
  EXPECT_TRUE(complete) << n_missing << " of " << acked.size()
                        << " acknowledged messages never delivered:\n"
                        << missing;
  // Every copy that arrived is intact (duplicates are allowed, damage is not).
  size_t damaged = 0;
  for (const auto& m : sink_.Messages()) {
    auto it = sent.find(MarkerOf(m.data));
    if (it == sent.end()) continue;
    auto split = SplitFirstReceived(m.data);
    if (!split || split->rest != it->second) {
      if (++damaged <= 5) ADD_FAILURE() << "damaged copy of " << it->first;
    }
  }
  EXPECT_EQ(damaged, 0u);
  std::cerr << "[ info ] acknowledged " << acked.size() << ", sink received " << sink_.count()
            << " (duplicates allowed)\n";
}

}  // namespace
}  // namespace sw::it
