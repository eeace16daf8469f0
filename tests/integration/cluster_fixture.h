// Owns what the cluster integration tests share: a fresh database per test on the ctest fixture
// `postgres`, the nodes' map and temp dirs, an SMTP sink, and two JSON field helpers. Fails the
// test in SetUp when the database or the sink cannot be made; dumps every node's log on failure.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/control/postgres_test_support.h"
#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {

inline std::string Str(const boost::json::object& o, const char* key) {
  const boost::json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

inline boost::json::object ParseObject(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  return !ec && v.is_object() ? v.as_object() : boost::json::object{};
}

class ClusterFixture : public ::testing::Test {
 protected:
  // `db_prefix` names the test's database: "<prefix>_<pid>_<test name>".
  explicit ClusterFixture(std::string db_prefix) : db_prefix_(std::move(db_prefix)) {}

  void SetUp() override {
    std::string error;
    ASSERT_TRUE(sink_.Start(0, &error)) << "sink: " << error;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string why;
    url_ = control::pgtest::FreshDatabase(
        db_prefix_ + "_" + std::to_string(::getpid()) + "_" + info->name(), &why);
    ASSERT_FALSE(url_.empty()) << why;
  }
  void TearDown() override {
    if (HasFailure())
      for (const auto& [name, gw] : nodes_)
        std::cerr << "---- " << name << " log(s) ----\n" << gw->AllLogs() << "\n";
    nodes_.clear();  // the daemons stop before the sink and the temp dirs go
    sink_.Stop();
  }

  std::string db_prefix_;
  TestSmtpServer sink_;
  std::string url_;
  std::vector<std::unique_ptr<TempDir>> dirs_;
  std::map<std::string, std::unique_ptr<GatewayProcess>> nodes_;
};

}  // namespace sw::it
