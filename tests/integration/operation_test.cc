// Operating the daemon: SIGHUP reloads (good and broken configs), low disk space, out of file
// descriptors, STARTTLS. Fails with the gateway's log dumped by the fixture.
#include <signal.h>

#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/scanners.h"
#include "tests/integration/harness/smtp_client.h"
#include "tests/integration/harness/test_certificate.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {
namespace {

TEST_F(GatewayTest, SighupAddsDomainWithoutDroppingConnections) {
  ASSERT_TRUE(StartGateway());
  SmtpClient old_session;
  ASSERT_TRUE(OpenSession(old_session, port()));
  ASSERT_TRUE(ReplyIs(old_session.Command("MAIL FROM:<a@example.net>"), "250"));
  ASSERT_TRUE(ReplyIs(old_session.Command("RCPT TO:<x@added.test>"), "554 5.7.1"));

  GatewayOptions& o = gw_->options();
  o.domains.push_back(
      {"added.test", {"[127.0.0.1]:" + std::to_string(sink_.port())}, {}, "opportunistic"});
  ASSERT_TRUE(WriteFile(gw_->config_path(), GatewayConfigYaml(o, gw_->queue_path())));
  ASSERT_TRUE(gw_->process().Signal(SIGHUP));
  ASSERT_TRUE(gw_->log().WaitFor("event=reloaded\\b", 5s));

  // The session that was open keeps working (and keeps the config it started with).
  EXPECT_TRUE(ReplyIs(old_session.Command("NOOP"), "250"));
  EXPECT_TRUE(ReplyIs(old_session.Command("RSET"), "250"));
  // A new session sees the new domain, and its mail is delivered.
  Envelope env;
  env.from = "a@example.net";
  env.to = {"x@added.test"};
  SendOk(env, "Subject: reload\r\n\r\nreloaded-domain\r\n");
  EXPECT_TRUE(AwaitDelivery("reloaded-domain", 10s));
  EXPECT_TRUE(ReplyIs(old_session.Command("QUIT"), "221"));
}

// A broken config on SIGHUP is reported and the running config stays. The stray `,` is the
// input on which yaml-cpp 0.7's LoadAll never returned: the event loop would have hung.
TEST_F(GatewayTest, SighupWithBrokenConfigKeepsTheRunningOne) {
  ASSERT_TRUE(StartGateway());
  std::string good = GatewayConfigYaml(gw_->options(), gw_->queue_path());
  ASSERT_TRUE(WriteFile(gw_->config_path(), "# limits\n, per-session limits\n" + good));
  ASSERT_TRUE(gw_->process().Signal(SIGHUP));
  EXPECT_TRUE(gw_->log().WaitFor("event=reload_failed\\b.*unexpected `,`", 5s));
  Envelope env;
  env.from = "a@example.net";
  env.to = {"x@example.com"};
  SendOk(env, "Subject: after\r\n\r\nstill-serving\r\n");
  EXPECT_TRUE(AwaitDelivery("still-serving", 10s));
}

// Out of file descriptors: accept() fails (EMFILE) while connections wait in the backlog. The
// daemon must not spin on it (it logged 600,000 lines a second before): one log line, open
// sessions keep working, and the waiting connections are served once descriptors free up.
TEST_F(GatewayTest, OutOfFileDescriptorsPausesAcceptingWithoutSpinning) {
  std::string prlimit = FindProgram("prlimit");
  if (prlimit.empty()) GTEST_SKIP() << "prlimit (util-linux) not installed";
  ASSERT_TRUE(StartGateway());
  pid_t pid = gw_->process().pid();
  auto open_fds = [pid] {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
      ++n;
    return n;
  };
  std::string limit = std::to_string(open_fds() + 3);
  // Soft limit only (SOFT:), so that it can be raised again without privileges.
  auto st = Process::Run({prlimit, "--pid", std::to_string(pid), "--nofile=" + limit + ":"},
                         dir_.File("prlimit.log"), 10s, nullptr);
  ASSERT_TRUE(st && st->exited && st->code == 0) << ReadFile(dir_.File("prlimit.log"));

  std::vector<std::unique_ptr<SmtpClient>> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(std::make_unique<SmtpClient>());
    ASSERT_TRUE(clients.back()->Connect(port()));  // the kernel completes it (backlog)
  }
  auto first = clients[0]->ReadReply(5s);
  ASSERT_TRUE(ReplyIs(first, "220"));
  ASSERT_TRUE(gw_->log().WaitFor("event=accept_failed\\b.*Too many open files", 5s));
  std::this_thread::sleep_for(1s);  // a spinning accept loop would log thousands of lines
  EXPECT_EQ(gw_->log().Count("event=accept_failed\\b"), 1u);
  EXPECT_TRUE(ReplyIs(clients[0]->Command("EHLO client.test"), "250"));

  // Descriptors come back (the limit is raised): the connections waiting are greeted.
  st = Process::Run({prlimit, "--pid", std::to_string(pid), "--nofile=1024:"},
                    dir_.File("prlimit.log"), 10s, nullptr);
  ASSERT_TRUE(st && st->exited && st->code == 0);
  EXPECT_TRUE(ReplyIs(clients.back()->ReadReply(5s), "220"));
  EXPECT_TRUE(gw_->running());
}

TEST_F(GatewayTest, LowDiskSpaceRefusesMailWith452) {
  GatewayOptions o = DefaultOptions();
  o.min_free_space = "1000000GiB";  // more than any test machine has free
  ASSERT_TRUE(StartGateway(o));
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  EXPECT_TRUE(ReplyIs(c.Command("MAIL FROM:<a@example.net>"), "452 4.3.1"));
  EXPECT_TRUE(gw_->log().WaitFor("event=reject\\b.*reason=\"disk space low\"", 2s));
}

}  // namespace
}  // namespace sw::it

namespace sw::it {
namespace {

// A self-signed certificate for the gateway's STARTTLS (mx.gateway.test).
bool MakeCertificate(const TempDir& dir, GatewayOptions& o) {
  o.tls_certificate = dir.File("gateway.crt");
  o.tls_key = dir.File("gateway.key");
  return MakeSelfSignedCertificate(dir, "gateway", "mx.gateway.test");
}

TEST_F(GatewayTest, StarttlsOfferedAndMailDeliveredOverTls) {
  GatewayOptions o = DefaultOptions();
  ASSERT_TRUE(MakeCertificate(dir_, o));
  ASSERT_TRUE(StartGateway(o));
  SmtpClient c;
  ASSERT_TRUE(c.Open(port()));
  auto ehlo = c.Command("EHLO client.test");
  ASSERT_TRUE(ehlo);
  EXPECT_NE(ehlo->text().find("STARTTLS"), std::string::npos) << *ehlo;
  c.Close();
  SwaksResult r = RunSwaks(port(),
                           {"--tls", "--from", "a@example.net", "--to", "bob@example.com",
                            "--header", "Subject: tls", "--body", "over-tls-marker"},
                           dir_.path());
  ASSERT_TRUE(r.status && r.status->exited && r.status->code == 0) << r.output;
  auto m = AwaitDelivery("over-tls-marker", 10s);
  ASSERT_TRUE(m);
  EXPECT_NE(m->data.find("with ESMTPS id " + r.queue_id), std::string::npos)
      << m->data.substr(0, 300);
  EXPECT_TRUE(gw_->log().WaitFor("event=tls\\b", 2s));
}

TEST_F(GatewayTest, PlaintextPipelinedAfterStarttlsIsDiscarded) {
  GatewayOptions o = DefaultOptions();
  ASSERT_TRUE(MakeCertificate(dir_, o));
  ASSERT_TRUE(StartGateway(o));
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  ASSERT_TRUE(c.Send("STARTTLS\r\nNOOP\r\nMAIL FROM:<injected@evil.test>\r\n"));
  EXPECT_TRUE(ReplyIs(c.ReadReply(), "220 2.0.0"));
  // The injected commands must not be answered in clear text.
  auto extra = c.ReadReply(1500ms);
  EXPECT_FALSE(extra && extra->code == 250) << "plaintext after STARTTLS was executed: " << *extra;
  EXPECT_EQ(gw_->log().Count("injected@evil"), 0u);
}

}  // namespace
}  // namespace sw::it
