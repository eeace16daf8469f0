// Owns a test DNS server: dnsmasq on a loopback port answering only what a test gives it (no
// upstream, no /etc/hosts), every query logged. Fails by gtest AssertionResult with its log.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/integration/harness/process.h"

namespace sw::it {

class Dnsmasq {
 public:
  // Starts dnsmasq on 127.0.0.1:`port` with `records`, dnsmasq options such as
  // "--txt-record=NAME,TEXT" or "--local=/remote.test/" (NXDOMAIN for every name below it);
  // logs to a new file under `dir` per start. Succeeds once it logged its start line.
  ::testing::AssertionResult Start(const std::string& dir, uint16_t port,
                                   const std::vector<std::string>& records);
  void Stop() { proc_.Terminate(5s); }
  std::string Log() const { return ReadFile(log_); }

 private:
  Process proc_;
  std::string log_;
  int starts_ = 0;
};

}  // namespace sw::it
