// The control plane over a real embedded store: who sees what (operator > reseller >
// customer > domain), token authentication by hash, revocation, the effective domain table
// (config file wins, deleted domains stay as tombstones) and reload from disk.
// Fails with a GoogleTest assertion.
#include "control/control_plane.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "control/rocksdb_control_store.h"

namespace sw::control {
namespace {

namespace fs = std::filesystem;

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sw-cp-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    auto cfg = std::make_shared<config::Config>();
    config::DomainConfig file;
    file.name = "file.test";
    cfg->domains["file.test"] = file;
    cfg->cluster.node = "node-a";
    file_ = cfg;
    Open();
  }
  void TearDown() override {
    cp_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  void Open() {
    cp_.reset();
    store_.reset();
    Status st;
    store_ = RocksDbControlStore::Open(dir_.string(), &st);
    ASSERT_TRUE(store_) << st.message();
    cp_ = std::make_unique<ControlPlane>(io_, *store_, file_, [this](auto c) { published_ = c; });
    ASSERT_TRUE(cp_->Load().ok());
  }
  // Reseller A with customer a1 and domain a.test; reseller B with b1 and b.test.
  void Seed() {
    Mutation m;
    for (const char* r : {"r_a", "r_b"}) {
      Reseller x;
      x.id = r;
      x.name = r;
      m.resellers.push_back(x);
      Customer c;
      c.id = std::string("c_") + r[2];
      c.name = c.id;
      c.reseller = r;
      m.customers.push_back(c);
      DomainRecord d;
      d.domain.name = std::string(1, r[2]) + ".test";
      d.domain.customer = c.id;
      d.domain.source = config::DomainSource::kApi;
      m.domains.push_back(d);
    }
    ASSERT_TRUE(cp_->Apply(ControlPlane::OperatorPrincipal(), "127.0.0.1", m).ok());
  }
  Principal Of(const std::string& account) {
    Token t;
    t.id = ControlPlane::NewId("t_");
    t.account = account;
    t.role = Role::kAdmin;
    std::string text = ControlPlane::NewTokenText();
    t.hash = ControlPlane::HashToken(text);
    Mutation m;
    m.tokens.push_back(t);
    EXPECT_TRUE(cp_->Apply(ControlPlane::OperatorPrincipal(), "", m).ok());
    auto p = cp_->Authenticate(text);
    EXPECT_TRUE(p);
    return p ? *p : Principal{};
  }

  boost::asio::io_context io_;
  fs::path dir_;
  std::shared_ptr<const config::Config> file_, published_;
  std::unique_ptr<RocksDbControlStore> store_;
  std::unique_ptr<ControlPlane> cp_;
};

TEST_F(ControlPlaneTest, EachAccountSeesOnlyItsSubtree) {
  Seed();
  Principal op = ControlPlane::OperatorPrincipal();
  Principal a = Of("r_a"), a1 = Of("c_a");
  EXPECT_TRUE(a.is_reseller());
  EXPECT_TRUE(a1.is_customer());
  EXPECT_EQ(a1.reseller, "r_a");
  EXPECT_TRUE(cp_->SeesDomain(op, "b.test"));
  EXPECT_TRUE(cp_->SeesDomain(a, "a.test"));
  EXPECT_FALSE(cp_->SeesDomain(a, "b.test"));
  EXPECT_FALSE(cp_->SeesDomain(a, "file.test")) << "config-file domains are the operator's";
  EXPECT_TRUE(cp_->SeesDomain(a1, "a.test"));
  EXPECT_FALSE(cp_->SeesCustomer(a, "c_b"));
  EXPECT_TRUE(cp_->SeesCustomer(a, "c_a"));
  EXPECT_FALSE(cp_->SeesReseller(a, "r_b"));
  EXPECT_FALSE(cp_->SeesReseller(a1, "r_a")) << "a customer does not see its reseller record";
  EXPECT_FALSE(cp_->SeesAccount(a, kOperator));
  EXPECT_FALSE(cp_->SeesAccount(a1, "c_b"));
}

TEST_F(ControlPlaneTest, TokensAuthenticateByHashAndRevokeAtOnce) {
  Seed();
  Token t;
  t.id = "t_x";
  t.account = "r_a";
  std::string text = ControlPlane::NewTokenText();
  EXPECT_EQ(text.size(), 3u + 43u);
  EXPECT_EQ(text.rfind("sw_", 0), 0u);
  t.hash = ControlPlane::HashToken(text);
  Mutation m;
  m.tokens.push_back(t);
  ASSERT_TRUE(cp_->Apply(ControlPlane::OperatorPrincipal(), "", m).ok());
  EXPECT_TRUE(cp_->Authenticate(text));
  EXPECT_FALSE(cp_->Authenticate(text + "x"));
  Mutation revoke;
  revoke.delete_tokens.push_back("t_x");
  ASSERT_TRUE(cp_->Apply(ControlPlane::OperatorPrincipal(), "", revoke).ok());
  EXPECT_FALSE(cp_->Authenticate(text));
}

TEST_F(ControlPlaneTest, EffectiveTableMergesFileAndApiAndKeepsTombstones) {
  Seed();
  io_.run_for(std::chrono::milliseconds(200));  // the coalesced publish
  ASSERT_TRUE(published_);
  EXPECT_EQ(published_->domains.count("a.test"), 1u);
  EXPECT_EQ(published_->domains.at("file.test").source, config::DomainSource::kConfig);
  auto d = cp_->FindDomain("a.test");
  ASSERT_TRUE(d);
  d->domain.state = config::DomainState::kDeleted;
  Mutation m;
  m.domains.push_back(*d);
  ASSERT_TRUE(cp_->Apply(ControlPlane::OperatorPrincipal(), "", m).ok());
  io_.restart();
  io_.run_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(cp_->FindDomain("a.test")) << "deleted domains are not live";
  ASSERT_EQ(published_->domains.count("a.test"), 1u) << "the tombstone routes queued mail";
  EXPECT_EQ(published_->domains.at("a.test").state, config::DomainState::kDeleted);
  // Everything is read back from disk.
  Open();
  EXPECT_FALSE(cp_->FindDomain("a.test"));
  EXPECT_TRUE(cp_->FindDomain("b.test"));
  EXPECT_EQ(cp_->Effective()->domains.at("a.test").state, config::DomainState::kDeleted);
  EXPECT_EQ(cp_->resellers().size(), 2u);
}

TEST_F(ControlPlaneTest, AuditIsScopedAndPaged) {
  Seed();
  Mutation m;
  m.audit.push_back({"domain.update", "a.test", {}, "r_a", "c_a"});
  m.audit.push_back({"domain.update", "b.test", {}, "r_b", "c_b"});
  ASSERT_TRUE(cp_->Apply(ControlPlane::OperatorPrincipal(), "10.0.0.1", m).ok());
  Principal a = Of("r_a");
  std::vector<boost::json::object> rows;
  ASSERT_TRUE(cp_->ReadAudit(a, 0, 100, &rows).ok());
  for (const auto& r : rows) EXPECT_NE(r.at("object"), "b.test");
  bool found = false;
  for (const auto& r : rows)
    if (r.at("object") == "a.test") {
      found = true;
      EXPECT_EQ(r.at("client_ip"), "10.0.0.1");
      EXPECT_EQ(r.at("node"), "node-a") << "audit rows name the node (cluster.node)";
      EXPECT_FALSE(r.contains("scope"));
    }
  EXPECT_TRUE(found);
}

// Seqs come from the store (ControlStore::ReserveAuditSeqs): they go on after a reopen.
TEST_F(ControlPlaneTest, AuditSeqsContinueAfterReopen) {
  Mutation m;
  m.audit.push_back({"domain.update", "x.test", {}, "", ""});
  m.audit.push_back({"domain.update", "y.test", {}, "", ""});
  ASSERT_TRUE(cp_->Apply(ControlPlane::OperatorPrincipal(), "10.0.0.1", m).ok());
  Open();
  Mutation n;
  n.audit.push_back({"domain.update", "z.test", {}, "", ""});
  ASSERT_TRUE(cp_->Apply(ControlPlane::OperatorPrincipal(), "10.0.0.1", n).ok());
  std::vector<boost::json::object> rows;
  ASSERT_TRUE(cp_->ReadAudit(ControlPlane::OperatorPrincipal(), 0, 100, &rows).ok());
  ASSERT_EQ(rows.size(), 3u);
  for (size_t i = 0; i < rows.size(); ++i)
    EXPECT_EQ(rows[i].at("seq").to_number<int64_t>(), static_cast<int64_t>(i + 1));
}

}  // namespace
}  // namespace sw::control
