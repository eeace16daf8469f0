// Tests the `cluster:` section (SPEC section 13): the control store URL and the node's name.
// Fails with a GoogleTest assertion showing the config text's problems.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"

namespace sw::config {
namespace {

std::vector<std::string> Problems(const std::string& yaml) {
  try {
    LoadConfigFromString(yaml, "t.yaml");
  } catch (const ConfigError& e) {
    return e.problems();
  }
  return {};
}

TEST(ClusterConfig, DefaultIsTheEmbeddedStoreAndTheServerHostname) {
  Config c = LoadConfigFromString("server:\n  hostname: mx7.example.net\n", "t.yaml");
  EXPECT_EQ(c.cluster.store, "") << "no cluster.store: the embedded RocksDB store";
  EXPECT_EQ(c.cluster.node, "mx7.example.net");
  EXPECT_EQ(LoadConfigFromString("", "t.yaml").cluster.node, ServerConfig{}.hostname);
  EXPECT_EQ(LoadConfigFromString("cluster: {store: \"\"}\n", "t.yaml").cluster.store, "");
}

TEST(ClusterConfig, PostgresUrlsAndNodeAreRead) {
  Config c = LoadConfigFromString(
      "cluster:\n  store: postgresql://sw:secret@db.internal:5432/spamweeder\n  node: mx1\n",
      "t.yaml");
  EXPECT_EQ(c.cluster.store, "postgresql://sw:secret@db.internal:5432/spamweeder");
  EXPECT_EQ(c.cluster.node, "mx1");
  c = LoadConfigFromString("cluster:\n  store: postgres://db/sw\n", "t.yaml");
  EXPECT_EQ(c.cluster.store, "postgres://db/sw");
}

TEST(ClusterConfig, OtherSchemesAreAnErrorNamingTheKeyWithoutThePassword) {
  auto p = Problems("cluster:\n  store: mysql://sw:secret@db/sw\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_EQ(p[0],
            "t.yaml:2:10: `cluster.store`: expected empty (the embedded store) or a postgresql:// "
            "or postgres:// URL, got `mysql://...`");
  EXPECT_EQ(p[0].find("secret"), std::string::npos);
  p = Problems("cluster:\n  store: /var/lib/spamweeder/control\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_NE(p[0].find("`cluster.store`"), std::string::npos) << p[0];
  EXPECT_NE(p[0].find("no URL scheme"), std::string::npos) << p[0];
}

TEST(ClusterConfig, EmptyNodeAndUnknownKeysAreErrors) {
  auto p = Problems("cluster:\n  node: \"\"\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_NE(p[0].find("cluster.node"), std::string::npos) << p[0];
  p = Problems("cluster:\n  stor: postgresql://db/sw\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_NE(p[0].find("unknown key `cluster.stor`"), std::string::npos) << p[0];
}

}  // namespace
}  // namespace sw::config
