// Shared helpers of the config loader tests: load a YAML text, collect its problems.
// Fails with a GoogleTest failure when a text expected to load does not.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"

namespace sw::config::test_support {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// The problems LoadConfigFromString reports for `yaml` under the name "t.yaml".
inline std::vector<std::string> Problems(const std::string& yaml) {
  try {
    LoadConfigFromString(yaml, "t.yaml");
  } catch (const ConfigError& e) {
    return e.problems();
  }
  return {};
}

// Expects exactly one problem and returns it.
inline std::string OneProblem(const std::string& yaml) {
  auto problems = Problems(yaml);
  EXPECT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  return problems.empty() ? "" : problems[0];
}

inline Config Load(const std::string& yaml) {
  try {
    return LoadConfigFromString(yaml, "t.yaml");
  } catch (const ConfigError& e) {
    ADD_FAILURE() << e.what();
    return Config{};
  }
}

inline std::string WriteTemp(const std::string& name, const std::string& content) {
  std::string path = ::testing::TempDir() + "sw_config_test_" + name;
  std::ofstream(path) << content;
  return path;
}

// The smallest valid domains section.
inline constexpr char kDomain[] =
    "domains:\n  example.com:\n    destinations: [\"[127.0.0.1]:2526\"]\n";

}  // namespace sw::config::test_support
