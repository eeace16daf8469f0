// DSNs to thousands of distinct remote domains (issue 14, item 5) through the real daemon: MX
// lookups answered by dnsmasq on a loopback port (`dns.servers`; NXDOMAIN for *.remote.test,
// so each DSN fails for good after one lookup), the daemon's threads counted in
// /proc/<pid>/task all along, and every remote domain evicted once idle (`event=domain_evicted`).
// Fails with the gateway's log, dnsmasq's log and the daemon's thread names at their peak.
#include <dirent.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "admin/http_client.h"
#include "tests/integration/harness/dnsmasq.h"
#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/smtp_client.h"

namespace sw::it {
namespace {

constexpr int kDomains = 5000;
constexpr int kSessions = 8;
constexpr size_t kResolverThreads = 3;  // delivery.mx_resolver_threads (default 2)

std::vector<std::string> TaskIds(pid_t pid) {
  std::vector<std::string> ids;
  std::string dir_path = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(dir_path.c_str());
  if (!dir) return ids;
  while (dirent* e = readdir(dir))
    if (e->d_name[0] != '.') ids.push_back(e->d_name);
  closedir(dir);
  return ids;
}

// The daemon's threads by name ("sw-mx-resolver" x3, ...).
std::map<std::string, size_t> ThreadNames(pid_t pid) {
  std::map<std::string, size_t> names;
  for (const auto& id : TaskIds(pid)) {
    std::ifstream comm("/proc/" + std::to_string(pid) + "/task/" + id + "/comm");
    std::string name;
    std::getline(comm, name);
    ++names[name];
  }
  return names;
}

std::string Describe(const std::map<std::string, size_t>& names) {
  std::string out;
  for (const auto& [name, n] : names) out += name + " x" + std::to_string(n) + ", ";
  return out;
}

// Samples the daemon's thread count every 2 ms on a thread of its own, keeping the peak.
class ThreadWatch {
 public:
  explicit ThreadWatch(pid_t pid) : pid_(pid), thread_([this] { Loop(); }) {}
  ~ThreadWatch() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t peak() const { return peak_; }
  size_t samples() const { return samples_; }
  std::string peak_names() const {
    std::lock_guard lock(mu_);
    return peak_names_;
  }

 private:
  void Loop() {
    while (!stop_) {
      size_t n = TaskIds(pid_).size();
      ++samples_;
      if (n > peak_) {
        peak_ = n;
        std::string names = n <= 200 ? Describe(ThreadNames(pid_)) : "(too many to name)";
        std::lock_guard lock(mu_);
        peak_names_ = std::move(names);
      }
      std::this_thread::sleep_for(2ms);
    }
  }
  pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> peak_{0}, samples_{0};
  mutable std::mutex mu_;
  std::string peak_names_;
  std::thread thread_;
};

// One session sending a message from bounce@d<i>.remote.test for i in [first, end) by `step`,
// MAIL, RCPT and DATA pipelined. Returns how many were accepted; `error` says why it stopped.
int SendFromDomains(uint16_t port, int first, int end, int step, std::string* error) {
  SmtpClient c;
  if (auto open = OpenSession(c, port); !open) {
    *error = open.message();
    return 0;
  }
  int accepted = 0;
  for (int i = first; i < end; i += step) {
    std::string domain = "d" + std::to_string(i) + ".remote.test";
    c.Send("MAIL FROM:<bounce@" + domain + ">\r\nRCPT TO:<user@example.com>\r\nDATA\r\n");
    auto mail = c.ReadReply(), rcpt = c.ReadReply(), data = c.ReadReply();
    if (!ReplyIs(mail, "250") || !ReplyIs(rcpt, "250") || !ReplyIs(data, "354")) {
      *error = domain + ": MAIL/RCPT/DATA refused: " + (data ? data->last() : c.error());
      break;
    }
    c.Send("Subject: to be bounced\r\n\r\nfor " + domain + "\r\n.\r\n");
    if (auto done = ReplyIs(c.ReadReply(), "250"); !done) {
      *error = domain + ": " + done.message();
      break;
    }
    ++accepted;
  }
  c.Command("QUIT");
  return accepted;
}

// Remote domains named in `event=domain_evicted domain=...` lines, with how often each was.
std::map<std::string, int> Evicted(const GatewayProcess& gw) {
  static const std::string kKey = "event=domain_evicted domain=";
  std::map<std::string, int> out;
  std::string text = gw.AllLogs();
  for (size_t at = text.find(kKey); at != std::string::npos; at = text.find(kKey, at)) {
    at += kKey.size();
    ++out[text.substr(at, text.find(' ', at) - at)];
  }
  return out;
}

// The remote domain of the last `event=domain_evicted` line.
std::string LastEvicted(const GatewayProcess& gw) {
  static const std::string kKey = "event=domain_evicted domain=";
  std::string text = gw.AllLogs();
  size_t at = text.rfind(kKey);
  if (at == std::string::npos) return "";
  at += kKey.size();
  return text.substr(at, text.find(' ', at) - at);
}

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class RemoteDomainsTest : public GatewayTest {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- dnsmasq (tail) ----\n" << Tail(dns_.Log()) << "\n";
    GatewayTest::TearDown();
  }
  static std::string Tail(const std::string& s) {
    return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
  }
  // Waits until `n` distinct remote domains were evicted, or one was `times` times (each poll
  // reads the whole log).
  bool AwaitEvicted(size_t n, Millis timeout, const std::string& domain = "", int times = 0) {
    auto end = std::chrono::steady_clock::now() + timeout;
    auto done = [&] {
      auto evicted = Evicted(*gw_);
      return domain.empty() ? evicted.size() >= n : evicted[domain] >= times;
    };
    while (!done()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::sleep_for(250ms);
    }
    return true;
  }
  Dnsmasq dns_;
};

TEST_F(RemoteDomainsTest, DsnsToFiveThousandRemoteDomainsLeaveTheConfiguredThreads) {
  uint16_t dns_port = FreeLoopbackPort();
  ASSERT_NE(dns_port, 0);
  ASSERT_TRUE(dns_.Start(dir_.path(), dns_port, {"--local=/remote.test/"}));
  // The customer's server refuses every recipient: each message bounces, a DSN to its sender.
  sink_.set_rcpt_policy([](const std::string&) { return std::string("550 5.1.1 no such user"); });
  GatewayOptions o = DefaultOptions();
  o.delivery_yaml =
      "  mx_resolver_threads: " + std::to_string(kResolverThreads) + "\n  mx_idle_timeout: 2s\n";
  o.extra_yaml = "dns:\n  servers: [\"127.0.0.1:" + std::to_string(dns_port) + "\"]\n";
  ASSERT_TRUE(StartGateway(o));
  const pid_t pid = gw_->process().pid();
  EXPECT_EQ(ThreadNames(pid)["sw-mx-resolver"], kResolverThreads) << Describe(ThreadNames(pid));

  // Warm-up: one DSN through the whole path (delivery, bounce, DSN, MX lookup, eviction), so
  // threads the daemon starts on first use are in the baseline.
  std::string error;
  ASSERT_EQ(SendFromDomains(port(), kDomains, kDomains + 1, 1, &error), 1) << error;
  ASSERT_TRUE(AwaitEvicted(1, 30s));
  const size_t baseline = TaskIds(pid).size();
  const std::string baseline_names = Describe(ThreadNames(pid));

  ThreadWatch watch(pid);
  std::vector<std::thread> senders;
  std::vector<std::string> errors(kSessions);
  std::atomic<int> accepted = 0;
  for (int s = 0; s < kSessions; ++s)
    senders.emplace_back(
        [&, s] { accepted += SendFromDomains(port(), s, kDomains, kSessions, &errors[s]); });
  for (auto& t : senders) t.join();
  ASSERT_EQ(accepted.load(), kDomains) << errors[0] << errors[1];

  // Every DSN was tried once by MX (dnsmasq: NXDOMAIN, so 556 5.1.10 for good), then its
  // domain went idle and was dropped with its destination.
  const bool all_evicted = AwaitEvicted(kDomains + 1, 120s);
  watch.Stop();
  EXPECT_GT(watch.samples(), 100u);
  EXPECT_LE(watch.peak(), baseline)
      << "threads at the peak: " << watch.peak_names() << "\nbaseline: " << baseline_names;
  ASSERT_TRUE(all_evicted) << Evicted(*gw_).size() << " evicted";
  std::cout << "threads: baseline " << baseline << " (" << baseline_names << "), peak "
            << watch.peak() << " over " << watch.samples() << " samples, " << kResolverThreads
            << " of them MX resolvers\n";
  EXPECT_EQ(ThreadNames(pid)["sw-mx-resolver"], kResolverThreads);
  std::string logs = gw_->AllLogs();
  EXPECT_GE(CountOf(logs, "reply=\"556 5.1.10 recipient domain d"), size_t{kDomains});
  std::string dns_log = dns_.Log();
  EXPECT_GE(CountOf(dns_log, "query[MX] d"), size_t{kDomains}) << "lookups through dns.servers";

  // Gone from the relay queue: the summary lists no remote domain any more.
  admin::HttpClient http("127.0.0.1", gw_->admin_port(), GatewayProcess::kAdminToken, 10s);
  auto summary = http.Call("GET", "/api/v1/queue/summary");
  ASSERT_EQ(summary.status, 200u) << summary.body;
  EXPECT_EQ(summary.body.find("remote.test"), std::string::npos) << summary.body;

  // Recreated on demand and evicted again; the shared cache (NXDOMAIN kept 30 s) answers the
  // domain evicted last without a second query.
  std::string again = LastEvicted(*gw_);
  int n = std::stoi(again.substr(1));
  ASSERT_EQ(SendFromDomains(port(), n, n + 1, 1, &error), 1) << error;
  ASSERT_TRUE(AwaitEvicted(0, 30s, again, 2)) << again;
  EXPECT_EQ(CountOf(dns_.Log(), "query[MX] " + again + " "), 1u) << again;
}

}  // namespace
}  // namespace sw::it
