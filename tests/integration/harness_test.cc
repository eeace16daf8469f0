// Self-tests of the integration harness (no gateway involved): sink, raw client, swaks, Process.
// A failure here means the harness, not spamweeder, is broken; the other suites rely on it.
#include <signal.h>

#include <cerrno>

#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/smtp_client.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {
namespace {

TEST(HarnessSelfTest, SinkRecordsRawAndUnstuffedData) {
  TestSmtpServer sink;
  ASSERT_TRUE(sink.Start());
  std::string data = SimpleMessage("self-1", ".dot\r\n..two\r\n.\r\nend\r\n");
  SendResult r = SendMessage(sink.port(), {"a@client.test", {"b@example.com"}, ""}, data);
  ASSERT_TRUE(r.accepted) << r.error;
  ASSERT_TRUE(sink.WaitForCount(1, 5s));
  SinkMessage m = sink.Messages()[0];
  EXPECT_EQ(m.data, data);
  EXPECT_EQ(m.raw, DotStuff(data));
  EXPECT_EQ(m.mail_from, "a@client.test");
  EXPECT_EQ(m.rcpt_to, std::vector<std::string>{"b@example.com"});
  EXPECT_TRUE(sink.errors().empty());
}

TEST(HarnessSelfTest, SinkKeepsBareLfAndRestartsOnSamePort) {
  TestSmtpServer sink;
  ASSERT_TRUE(sink.Start());
  uint16_t port = sink.port();
  SmtpClient c;
  ASSERT_TRUE(c.Open(port));
  ASSERT_EQ(c.Command("EHLO x")->code, 250);
  ASSERT_EQ(c.Command("MAIL FROM:<a@x>")->code, 250);
  ASSERT_EQ(c.Command("RCPT TO:<b@y>")->code, 250);
  ASSERT_EQ(c.Command("DATA")->code, 354);
  ASSERT_TRUE(c.Send("a\nb\r\n.\r\n"));
  ASSERT_EQ(c.ReadReply()->code, 250);
  c.Close();
  ASSERT_TRUE(sink.WaitForCount(1, 5s));
  EXPECT_TRUE(HasBareLf(sink.Messages()[0].raw));
  sink.Stop();
  EXPECT_FALSE(c.Connect(port, 1s));
  ASSERT_TRUE(sink.Start(port));
  EXPECT_TRUE(c.Open(port)) << c.error();
  EXPECT_EQ(sink.count(), 1u);
}

TEST(HarnessSelfTest, SwaksDeliversToSink) {
  TempDir dir;
  TestSmtpServer sink;
  ASSERT_TRUE(sink.Start());
  std::string file = dir.File("msg.eml");
  // swaks turns LF into CRLF, dot-stuffs and appends "\r\n.\r\n": no final newline here.
  ASSERT_TRUE(WriteFile(file, "Subject: swaks self\nMessage-ID: <swaks-self@x>\n\n.dot line\nend"));
  SwaksResult r = RunSwaks(
      sink.port(),
      {"--from", "a@client.test", "--to", "b@example.com", "--data", "@" + file, "--pipeline"},
      dir.path());
  ASSERT_TRUE(r.status && r.status->exited && r.status->code == 0) << r.output;
  auto m = sink.WaitForMessageContaining("swaks-self", 5s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data,
            "Subject: swaks self\r\nMessage-ID: <swaks-self@x>\r\n\r\n.dot line\r\nend\r\n");
}

TEST(HarnessSelfTest, ProcessIsKilledAndReapedByDestructor) {
  TempDir dir;
  pid_t pid;
  {
    Process p;
    std::string error;
    ASSERT_TRUE(p.Start({"/bin/sleep", "60"}, dir.File("sleep.out"), &error)) << error;
    pid = p.pid();
    EXPECT_FALSE(p.Wait(50ms).has_value());
  }
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(HarnessSelfTest, ConfigYamlListsDomainsAndLimits) {
  GatewayOptions o;
  o.max_recipients = 7;
  o.domains.push_back({"example.com", {"[127.0.0.1]:2526"}, {"alice"}, "opportunistic"});
  std::string y = GatewayConfigYaml(o, "/tmp/q");
  EXPECT_NE(y.find("max_recipients: 7\n"), std::string::npos) << y;
  EXPECT_NE(y.find("destinations: [\"[127.0.0.1]:2526\"]"), std::string::npos) << y;
  EXPECT_NE(y.find("recipients: [\"alice\"]"), std::string::npos) << y;
}

}  // namespace
}  // namespace sw::it
