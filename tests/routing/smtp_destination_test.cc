// Owns the loopback integration tests of SmtpDestination against smtp-sink and a scripted server.
// Fails as gtest failures; every server process/thread is stopped by RAII guards.
#include "routing/smtp_destination.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>

#include "routing/connection_pool.h"
#include "routing/smtp_wire.h"
#include "tests/routing/test_servers.h"

namespace sw::routing {
namespace {

using testing::FreePort;
using testing::ReadDumps;
using testing::Script;
using testing::ScriptedServer;
using testing::SmtpSink;
using testing::TempDir;
namespace asio = boost::asio;

config::Destination Local(uint16_t port) { return config::Destination{"127.0.0.1", port, true}; }
std::string Label(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// LF line endings as smtp-sink's dump writes them, with the final newline it adds.
std::string AsDumped(const std::string& body) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') continue;
    out.push_back(body[i]);
  }
  if (out.empty() || out.back() != '\n') out.push_back('\n');
  return out;
}

// Splits an smtp-sink dump into its generated headers and the received message.
void SplitDump(const std::string& dump, std::string* headers, std::string* message) {
  size_t rec = dump.find("\nReceived: ");
  ASSERT_NE(rec, std::string::npos) << dump;
  size_t pos = rec + 1;
  for (int i = 0; i < 3; ++i) pos = dump.find('\n', pos) + 1;  // three-line Received header
  *headers = dump.substr(0, rec + 1);
  *message = dump.substr(pos);
}

class DeliveryTest : public ::testing::Test {
 protected:
  DeliveryTest() {
    delivery_.connect_timeout = std::chrono::seconds(2);
    delivery_.command_timeout = std::chrono::seconds(5);
    delivery_.idle_timeout = std::chrono::seconds(10);
    delivery_.max_connections_per_destination = 4;
  }

  std::unique_ptr<SmtpDestination> Make(std::vector<config::Destination> dests,
                                        config::TlsPolicy tls = config::TlsPolicy::kOpportunistic) {
    return std::make_unique<SmtpDestination>(io_.get_executor(), "gw.example.net", std::move(dests),
                                             tls, delivery_, "example.com");
  }

  // Runs the io_context until `aw` completes (other work, like idle timers, stays pending).
  template <typename T>
  T Run(asio::awaitable<T> aw) {
    std::optional<T> out;
    asio::co_spawn(io_, std::move(aw), [&](std::exception_ptr e, T v) {
      if (e) std::rethrow_exception(e);
      out = std::move(v);
    });
    io_.restart();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!out && std::chrono::steady_clock::now() < deadline) {
      io_.run_one_for(std::chrono::seconds(1));
    }
    EXPECT_TRUE(out.has_value()) << "coroutine did not finish";
    return out ? std::move(*out) : T{};
  }

  // Lets background work (QUITs, idle sweeps) run for a while.
  void Drain(std::chrono::milliseconds d) {
    io_.restart();
    io_.run_for(d);
  }

  static OutboundMessage Msg(std::vector<std::string> rcpts, std::string body,
                             std::string id = "TESTID1") {
    OutboundMessage m;
    m.id = std::move(id);
    m.sender = "sender@example.org";
    m.recipients = std::move(rcpts);
    m.body = std::make_shared<const std::string>(std::move(body));
    return m;
  }

  asio::io_context io_{1};  // declared first: destroyed last
  config::DeliveryConfig delivery_;
  TempDir dir_;
};

const char kSimpleBody[] = "From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n";

TEST_F(DeliveryTest, DeliversByteExactWithDotStuffing) {
  SmtpSink sink(FreePort(), dir_.path());
  auto dest = Make({Local(sink.port())});
  const std::string body =
      "From: a@example.org\r\nTo: b@example.com\r\nSubject: dots\r\n\r\n"
      ".leading dot\r\n..two dots\r\n.\r\nmiddle . dot\r\n\r\n\xc3\xa9t\xc3\xa9 8bit\r\n"
      "last line without crlf";
  OutboundMessage msg = Msg({"b@example.com", "c@example.com"}, body);
  msg.eightbit = true;
  DeliveryResult r = Run(dest->Deliver(msg));
  ASSERT_TRUE(r.reached) << r.error;
  EXPECT_EQ(r.destination, Label(sink.port()));
  ASSERT_EQ(r.recipients.size(), 2u);
  for (const auto& rc : r.recipients) EXPECT_EQ(rc.code, 250) << rc.text;
  EXPECT_EQ(r.recipients[0].enhanced, "2.0.0");

  auto dumps = ReadDumps(dir_.path(), 1);
  ASSERT_EQ(dumps.size(), 1u);
  std::string headers, message;
  SplitDump(dumps[0], &headers, &message);
  EXPECT_NE(headers.find("X-Helo-Args: gw.example.net\n"), std::string::npos) << headers;
  EXPECT_NE(headers.find("X-Mail-Args: <sender@example.org> BODY=8BITMIME\n"), std::string::npos)
      << headers;
  EXPECT_NE(headers.find("X-Rcpt-Args: <b@example.com>\nX-Rcpt-Args: <c@example.com>\n"),
            std::string::npos)
      << headers;
  EXPECT_EQ(message, AsDumped(body) + "\n");  // smtp-sink appends one empty line
}

TEST_F(DeliveryTest, WireBytesAreDotStuffedExactly) {
  ScriptedServer server(Script{});
  auto dest = Make({Local(server.port())});
  DeliveryResult r = Run(dest->Deliver(Msg({"b@example.com"}, "A\r\n.B\r\n.\r\n..\r\nC")));
  ASSERT_TRUE(r.reached) << r.error;
  ASSERT_EQ(server.messages().size(), 1u);
  EXPECT_EQ(server.messages()[0], "A\r\n..B\r\n..\r\n...\r\nC\r\n.\r\n");
  // SIZE is offered by the scripted server: the MAIL command carries the body size.
  EXPECT_EQ(server.commands()[1], "MAIL FROM:<sender@example.org> SIZE=15");
}

TEST_F(DeliveryTest, LargeBodyStreamsIntact) {
  ScriptedServer server(Script{});
  auto dest = Make({Local(server.port())});
  std::string body = "Subject: big\r\n\r\n";
  for (int i = 0; body.size() < 12u * 1024 * 1024; ++i) {
    body += (i % 7 == 0) ? ".dotted line number " : "an ordinary line of text number ";
    body += std::to_string(i);
    body += "\r\n";
  }
  DeliveryResult r = Run(dest->Deliver(Msg({"b@example.com"}, body)));
  ASSERT_TRUE(r.reached) << r.error;
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].code, 250);
  ASSERT_EQ(server.messages().size(), 1u);
  EXPECT_TRUE(server.messages()[0] == wire::DotStuff(body));
}

TEST_F(DeliveryTest, SecondDestinationUsedWhenFirstRefusesConnection) {
  uint16_t dead = FreePort();
  SmtpSink sink(FreePort(), dir_.path());
  auto dest = Make({Local(dead), Local(sink.port())});
  DeliveryResult r = Run(dest->Deliver(Msg({"b@example.com"}, kSimpleBody)));
  ASSERT_TRUE(r.reached) << r.error;
  EXPECT_EQ(r.destination, Label(sink.port()));
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].code, 250);
  EXPECT_EQ(ReadDumps(dir_.path(), 1).size(), 1u);
}

TEST_F(DeliveryTest, FourXXGreetingMovesToNextDestination) {
  Script busy;
  busy.greeting = "421 4.3.2 Service not available, try later\r\n";
  ScriptedServer first(busy);
  ScriptedServer second(Script{});
  auto dest = Make({Local(first.port()), Local(second.port())});
  DeliveryResult r = Run(dest->Deliver(Msg({"b@example.com"}, kSimpleBody)));
  ASSERT_TRUE(r.reached) << r.error;
  EXPECT_EQ(r.destination, Label(second.port()));
  EXPECT_EQ(first.connections(), 1);
  EXPECT_TRUE(first.commands().empty());
  EXPECT_EQ(second.messages().size(), 1u);
}

TEST_F(DeliveryTest, AllDestinationsDeadGivesUnreached) {
  uint16_t a = FreePort(), b = FreePort();
  auto dest = Make({Local(a), Local(b)});
  DeliveryResult r = Run(dest->Deliver(Msg({"b@example.com"}, kSimpleBody)));
  EXPECT_FALSE(r.reached);
  EXPECT_TRUE(r.recipients.empty());
  EXPECT_NE(r.error.find(Label(a) + ": connect"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find(Label(b) + ": connect"), std::string::npos) << r.error;
}

TEST_F(DeliveryTest, SilentServerTimesOut) {
  delivery_.command_timeout = std::chrono::milliseconds(300);
  Script s;
  s.silent = true;
  ScriptedServer server(s);
  auto dest = Make({Local(server.port())});
  auto start = std::chrono::steady_clock::now();
  DeliveryResult r = Run(dest->Deliver(Msg({"b@example.com"}, kSimpleBody)));
  EXPECT_FALSE(r.reached);
  EXPECT_NE(r.error.find("greeting: no reply: read: timeout"), std::string::npos) << r.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

Script RejectsBad() {
  Script s;
  s.rcpt_reply = [](const std::string& addr) -> std::string {
    if (addr.rfind("bad", 0) == 0)
      return "550 5.1.1 <" + addr + ">: Recipient address rejected\r\n";
    if (addr.rfind("later", 0) == 0) return "450 4.2.0 <" + addr + ">: greylisted\r\n";
    return "250 2.1.5 Ok\r\n";
  };
  return s;
}

void ExpectPerRecipient(const DeliveryResult& r) {
  ASSERT_TRUE(r.reached) << r.error;
  ASSERT_EQ(r.recipients.size(), 3u);
  EXPECT_EQ(r.recipients[0].code, 250);
  EXPECT_EQ(r.recipients[0].text, "Ok: queued");
  EXPECT_EQ(r.recipients[1].code, 550);
  EXPECT_EQ(r.recipients[1].enhanced, "5.1.1");
  EXPECT_EQ(r.recipients[1].text, "<bad@example.com>: Recipient address rejected");
  EXPECT_TRUE(r.recipients[1].permanent());
  EXPECT_EQ(r.recipients[2].code, 250);
}

TEST_F(DeliveryTest, PerRecipientFiveXXReported) {
  ScriptedServer server(RejectsBad());
  auto dest = Make({Local(server.port())});
  DeliveryResult r =
      Run(dest->Deliver(Msg({"a@example.com", "bad@example.com", "c@example.com"}, kSimpleBody)));
  ExpectPerRecipient(r);
  EXPECT_EQ(server.CountCommand("RCPT"), 3);
  EXPECT_EQ(server.messages().size(), 1u);
}

TEST_F(DeliveryTest, PerRecipientFiveXXReportedWithoutPipelining) {
  Script s = RejectsBad();
  s.extensions = {"8BITMIME"};
  ScriptedServer server(s);
  auto dest = Make({Local(server.port())});
  DeliveryResult r =
      Run(dest->Deliver(Msg({"a@example.com", "bad@example.com", "c@example.com"}, kSimpleBody)));
  ExpectPerRecipient(r);
  EXPECT_EQ(server.messages().size(), 1u);
}

TEST_F(DeliveryTest, NoRecipientAcceptedSendsRsetNotData) {
  for (bool pipelining : {true, false}) {
    Script s = RejectsBad();
    if (!pipelining) s.extensions = {};
    ScriptedServer server(s);
    auto dest = Make({Local(server.port())});
    DeliveryResult r =
        Run(dest->Deliver(Msg({"bad1@example.com", "later@example.com"}, kSimpleBody)));
    ASSERT_TRUE(r.reached) << r.error;
    ASSERT_EQ(r.recipients.size(), 2u);
    EXPECT_EQ(r.recipients[0].code, 550);
    EXPECT_EQ(r.recipients[1].code, 450);
    EXPECT_TRUE(r.recipients[1].transient());
    EXPECT_EQ(server.CountCommand("DATA"), pipelining ? 1 : 0);
    EXPECT_EQ(server.CountCommand("RSET"), 1);
    EXPECT_TRUE(server.messages().empty());
    // The session stays usable: the next message goes over the same connection.
    r = Run(dest->Deliver(Msg({"a@example.com"}, kSimpleBody)));
    ASSERT_TRUE(r.reached);
    EXPECT_EQ(r.recipients[0].code, 250);
    EXPECT_EQ(server.connections(), 1);
  }
}

TEST_F(DeliveryTest, MailFiveXXIsPermanentForAllRecipients) {
  SmtpSink sink(FreePort(), "", {"-f", "MAIL"});
  SmtpSink other(FreePort(), dir_.path());
  auto dest = Make({Local(sink.port()), Local(other.port())});
  DeliveryResult r = Run(dest->Deliver(Msg({"a@example.com", "b@example.com"}, kSimpleBody)));
  ASSERT_TRUE(r.reached) << r.error;
  EXPECT_EQ(r.destination, Label(sink.port()));
  ASSERT_EQ(r.recipients.size(), 2u);
  for (const auto& rc : r.recipients) {
    EXPECT_TRUE(rc.permanent()) << rc.code;
    EXPECT_EQ(rc.enhanced, "5.3.0");
  }
  EXPECT_TRUE(ReadDumps(dir_.path(), 0, 100).empty());  // not tried elsewhere
}

TEST_F(DeliveryTest, MailFourXXMovesToNextDestination) {
  SmtpSink first(FreePort(), "", {"-r", "MAIL"});
  SmtpSink second(FreePort(), dir_.path());
  auto dest = Make({Local(first.port()), Local(second.port())});
  DeliveryResult r = Run(dest->Deliver(Msg({"a@example.com"}, kSimpleBody)));
  ASSERT_TRUE(r.reached) << r.error;
  EXPECT_EQ(r.destination, Label(second.port()));
  EXPECT_EQ(ReadDumps(dir_.path(), 1).size(), 1u);
}

TEST_F(DeliveryTest, ConnectionDroppedDuringDataGivesTransient) {
  Script s;
  s.drop_during_data = true;
  ScriptedServer server(s);
  auto dest = Make({Local(server.port())});
  DeliveryResult r = Run(
      dest->Deliver(Msg({"a@example.com", "b@example.com"}, std::string(4 << 20, 'x') + "\r\n")));
  ASSERT_TRUE(r.reached) << r.error;
  ASSERT_EQ(r.recipients.size(), 2u);
  for (const auto& rc : r.recipients) {
    EXPECT_EQ(rc.code, 0);
    EXPECT_TRUE(rc.transient());
    EXPECT_NE(rc.text.find("lost connection"), std::string::npos) << rc.text;
  }
  EXPECT_EQ(dest->pool().open(Label(server.port())), 0u);
}

TEST_F(DeliveryTest, ConnectionReusedAcrossMessages) {
  ScriptedServer server(Script{});
  auto dest = Make({Local(server.port())});
  for (int i = 0; i < 3; ++i) {
    DeliveryResult r = Run(dest->Deliver(Msg({"a@example.com"}, kSimpleBody)));
    ASSERT_TRUE(r.reached) << r.error;
    EXPECT_EQ(r.recipients[0].code, 250);
  }
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.CountCommand("EHLO"), 1);
  EXPECT_EQ(server.messages().size(), 3u);
  EXPECT_EQ(dest->pool().idle(Label(server.port())), 1u);
  dest->Close();
  Drain(std::chrono::milliseconds(200));
  EXPECT_EQ(server.CountCommand("QUIT"), 1);
}

TEST_F(DeliveryTest, StalePooledConnectionRetriedOnFreshOne) {
  Script s;
  s.close_after_message = true;  // the server hangs up after each message
  ScriptedServer server(s);
  auto dest = Make({Local(server.port())});
  for (int i = 0; i < 2; ++i) {
    DeliveryResult r = Run(dest->Deliver(Msg({"a@example.com"}, kSimpleBody)));
    ASSERT_TRUE(r.reached) << r.error;
    EXPECT_EQ(r.recipients[0].code, 250);
  }
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.messages().size(), 2u);
}

TEST_F(DeliveryTest, IdleConnectionClosedAfterIdleTimeout) {
  delivery_.idle_timeout = std::chrono::milliseconds(200);
  ScriptedServer server(Script{});
  auto dest = Make({Local(server.port())});
  ASSERT_TRUE(Run(dest->Deliver(Msg({"a@example.com"}, kSimpleBody))).reached);
  EXPECT_EQ(dest->pool().idle(Label(server.port())), 1u);
  Drain(std::chrono::milliseconds(600));
  EXPECT_EQ(dest->pool().open(Label(server.port())), 0u);
  EXPECT_EQ(server.CountCommand("QUIT"), 1);
  ASSERT_TRUE(Run(dest->Deliver(Msg({"a@example.com"}, kSimpleBody))).reached);
  EXPECT_EQ(server.connections(), 2);
}

TEST_F(DeliveryTest, PoolLimitsConcurrentConnections) {
  delivery_.max_connections_per_destination = 2;
  Script s;
  s.end_delay_ms = 30;
  ScriptedServer server(s);
  auto dest = Make({Local(server.port())});
  constexpr int kMessages = 10;
  std::vector<OutboundMessage> msgs;
  for (int i = 0; i < kMessages; ++i) {
    msgs.push_back(Msg({"a@example.com"}, kSimpleBody, "ID" + std::to_string(i)));
  }
  int done = 0, ok = 0;
  for (auto& m : msgs) {
    asio::co_spawn(io_, dest->Deliver(m), [&](std::exception_ptr, DeliveryResult r) {
      ++done;
      if (r.reached && r.recipients.size() == 1 && r.recipients[0].code == 250) ++ok;
    });
  }
  io_.restart();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (done < kMessages && std::chrono::steady_clock::now() < deadline) {
    io_.run_one_for(std::chrono::seconds(1));
  }
  EXPECT_EQ(ok, kMessages);
  EXPECT_LE(server.max_concurrent(), 2);
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(dest->pool().waiting(Label(server.port())), 0u);
  EXPECT_EQ(dest->pool().open(Label(server.port())), 2u);
}

TEST_F(DeliveryTest, PipelinedWhenServerOffersIt) {
  ScriptedServer pipelining(Script{});
  Script lockstep_script;
  lockstep_script.extensions = {"8BITMIME"};
  ScriptedServer lockstep(lockstep_script);
  for (ScriptedServer* server : {&pipelining, &lockstep}) {
    auto dest = Make({Local(server->port())});
    DeliveryResult r = Run(dest->Deliver(Msg({"a@example.com", "b@example.com"}, kSimpleBody)));
    ASSERT_TRUE(r.reached) << r.error;
    EXPECT_EQ(r.recipients[1].code, 250);
  }
  EXPECT_EQ(pipelining.mail_pipelined(), std::vector<bool>{true});
  EXPECT_EQ(lockstep.mail_pipelined(), std::vector<bool>{false});
  EXPECT_EQ(lockstep.messages().size(), 1u);
}

TEST_F(DeliveryTest, HeloFallbackWhenEhloRejected) {
  Script s;
  s.reject_ehlo = true;
  ScriptedServer server(s);
  auto dest = Make({Local(server.port())});
  DeliveryResult r = Run(dest->Deliver(Msg({"a@example.com"}, ".x\r\n")));
  ASSERT_TRUE(r.reached) << r.error;
  EXPECT_EQ(server.CountCommand("HELO gw.example.net"), 1);
  EXPECT_EQ(server.mail_pipelined(), std::vector<bool>{false});  // no extensions after HELO
  EXPECT_EQ(server.messages(), std::vector<std::string>{"..x\r\n.\r\n"});
}

TEST_F(DeliveryTest, RequiredTlsWithoutStarttlsSendsNothing) {
  ScriptedServer server(Script{});
  SmtpSink sink(FreePort(), dir_.path());  // no STARTTLS either
  auto dest = Make({Local(server.port()), Local(sink.port())}, config::TlsPolicy::kRequired);
  DeliveryResult r = Run(dest->Deliver(Msg({"a@example.com"}, kSimpleBody)));
  EXPECT_FALSE(r.reached);
  EXPECT_NE(r.error.find("STARTTLS not offered (tls: required)"), std::string::npos) << r.error;
  EXPECT_EQ(server.CountCommand("MAIL"), 0);
  EXPECT_EQ(server.CountCommand("QUIT"), 1);
  EXPECT_TRUE(ReadDumps(dir_.path(), 0, 100).empty());
}

TEST_F(DeliveryTest, OpportunisticTlsUsedWhenOffered) {
  Script s;
  s.tls = testing::MakeSelfSignedServerContext();
  ScriptedServer server(s);
  auto dest = Make({Local(server.port())});
  DeliveryResult r = Run(dest->Deliver(Msg({"a@example.com"}, kSimpleBody)));
  ASSERT_TRUE(r.reached) << r.error;
  EXPECT_TRUE(r.tls);
  EXPECT_EQ(r.recipients[0].code, 250);
  EXPECT_EQ(server.CountCommand("EHLO"), 2);  // again after the handshake
  EXPECT_EQ(server.messages().size(), 1u);
  // And reuse works over TLS.
  r = Run(dest->Deliver(Msg({"a@example.com"}, kSimpleBody)));
  ASSERT_TRUE(r.reached) << r.error;
  EXPECT_TRUE(r.tls);
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(DeliveryTest, VerifyPolicyRejectsSelfSignedCertificate) {
  Script s;
  s.tls = testing::MakeSelfSignedServerContext();
  ScriptedServer server(s);
  auto dest =
      Make({config::Destination{"localhost", server.port(), true}}, config::TlsPolicy::kVerify);
  DeliveryResult r = Run(dest->Deliver(Msg({"a@example.com"}, kSimpleBody)));
  EXPECT_FALSE(r.reached);
  EXPECT_NE(r.error.find("TLS handshake"), std::string::npos) << r.error;
  EXPECT_EQ(server.CountCommand("MAIL"), 0);
}

TEST_F(DeliveryTest, SmtpUtf8AddressWithoutServerSupportIsPermanent) {
  ScriptedServer server(Script{});  // no SMTPUTF8
  auto dest = Make({Local(server.port())});
  OutboundMessage m = Msg({"\xce\xb4@example.com"}, kSimpleBody);
  m.smtputf8 = true;
  DeliveryResult r = Run(dest->Deliver(m));
  ASSERT_TRUE(r.reached);
  EXPECT_EQ(r.recipients[0].code, 553);
  EXPECT_EQ(r.recipients[0].enhanced, "5.6.7");
  EXPECT_EQ(server.CountCommand("MAIL"), 0);
}

TEST_F(DeliveryTest, ProbeSeesServerReturn) {
  uint16_t port = FreePort();
  auto dest = Make({Local(port)});
  ProbeResult p = Run(dest->Probe());
  EXPECT_FALSE(p.up);
  EXPECT_NE(p.error.find(Label(port)), std::string::npos) << p.error;
  {
    SmtpSink sink(port);
    p = Run(dest->Probe());
    EXPECT_TRUE(p.up) << p.error;
    EXPECT_EQ(p.destination, Label(port));
  }
  p = Run(dest->Probe());
  EXPECT_FALSE(p.up);
}

TEST_F(DeliveryTest, ResolvesBareHostName) {
  ScriptedServer server(Script{});
  auto dest = Make({config::Destination{"localhost", server.port(), false}});
  DeliveryResult r = Run(dest->Deliver(Msg({"a@example.com"}, kSimpleBody)));
  ASSERT_TRUE(r.reached) << r.error;
  EXPECT_EQ(r.destination, "localhost:" + std::to_string(server.port()));
}

// Throughput of one pool on one thread against smtp-sink: 4 KiB messages.
TEST_F(DeliveryTest, ThroughputSmallMessages) {
  delivery_.max_connections_per_destination = 20;
  SmtpSink sink(FreePort());
  auto dest = Make({Local(sink.port())});
  std::string body = "Subject: perf\r\n\r\n";
  while (body.size() < 4096)
    body += ".0123456789abcdef0123456789abcdef0123456789abcdef0123456789\r\n";
  constexpr int kMessages = 5000;
  constexpr int kConcurrency = 100;
  OutboundMessage msg = Msg({"a@example.com"}, body);
  int started = 0, done = 0, ok = 0;
  std::function<void()> start_one = [&] {
    ++started;
    asio::co_spawn(io_, dest->Deliver(msg), [&](std::exception_ptr, DeliveryResult r) {
      ++done;
      if (r.reached && r.recipients[0].code == 250) ++ok;
      if (started < kMessages) start_one();
    });
  };
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kConcurrency; ++i) start_one();
  io_.restart();
  auto deadline = t0 + std::chrono::seconds(60);
  while (done < kMessages && std::chrono::steady_clock::now() < deadline) {
    io_.run_one_for(std::chrono::seconds(1));
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(ok, kMessages);
  std::printf("throughput: %d messages of %zu bytes in %.3f s = %.0f msg/s\n", kMessages,
              body.size(), secs, kMessages / secs);
}

}  // namespace
}  // namespace sw::routing
