// Owns a test DNS server: dnsmasq on a loopback port answering only what a test gives it (no
// upstream, no /etc/hosts), every query logged. Fails by gtest AssertionResult with its log.
#include "tests/integration/harness/dnsmasq.h"

#include "tests/integration/harness/scanners.h"

namespace sw::it {

::testing::AssertionResult Dnsmasq::Start(const std::string& dir, uint16_t port,
                                          const std::vector<std::string>& records) {
  std::string bin = FindProgram("dnsmasq");
  if (bin.empty())
    return ::testing::AssertionFailure() << "dnsmasq not installed (scripts/setup.sh)";
  log_ = dir + "/dnsmasq-" + std::to_string(++starts_) + ".log";
  std::vector<std::string> argv = {bin,
                                   "--keep-in-foreground",
                                   "--no-resolv",
                                   "--no-hosts",
                                   "--no-poll",
                                   "--listen-address=127.0.0.1",
                                   "--bind-interfaces",
                                   "--port=" + std::to_string(port),
                                   "--pid-file=",
                                   "--user=root",
                                   "--log-facility=-",
                                   "--log-queries"};
  argv.insert(argv.end(), records.begin(), records.end());
  std::string error;
  if (!proc_.Start(argv, log_, &error)) return ::testing::AssertionFailure() << error;
  // Ready when it answers: poll the log for its start line.
  for (int i = 0; i < 100; ++i) {
    if (ReadFile(log_).find("started") != std::string::npos) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(50ms);
  }
  return ::testing::AssertionFailure() << "dnsmasq did not start: " << ReadFile(log_);
}

}  // namespace sw::it
