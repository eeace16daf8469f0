// server.max_inflight_data: message bytes held in memory by all sessions receiving DATA are
// capped; past the cap a transaction gets 452 4.3.1 and its sender retries. Fails with the log.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "admin/http_client.h"
#include "harness/gateway_process.h"
#include "harness/message_text.h"
#include "harness/smtp_client.h"

namespace sw::it {
namespace {

// spamweeder_inflight_data_bytes from /metrics; -1 when unreadable.
double InflightBytes(uint16_t admin_port) {
  admin::HttpClient http("127.0.0.1", admin_port, "", std::chrono::seconds(5));
  admin::HttpResult r = http.Call("GET", "/metrics");
  std::smatch m;
  if (!r.ok ||
      !std::regex_search(r.body, m, std::regex("\nspamweeder_inflight_data_bytes ([0-9.e+]+)")))
    return -1;
  return std::stod(m[1]);
}

// Opens a session and starts DATA; false unless the gateway said 354.
bool StartData(SmtpClient& c, uint16_t port) {
  return OpenSession(c, port) && ReplyIs(c.Command("MAIL FROM:<a@client.test>"), "250") &&
         ReplyIs(c.Command("RCPT TO:<u@example.com>"), "250") && ReplyIs(c.Command("DATA"), "354");
}

TEST_F(GatewayTest, InflightDataOverTheCapGets452AndTheRetryPasses) {
  GatewayOptions o = DefaultOptions();
  o.max_inflight_data = "1MiB";
  ASSERT_TRUE(StartGateway(o));
  const std::string half = FillerBody(700 * 1024, 7);  // two of these do not fit in 1 MiB

  SmtpClient a, b;
  ASSERT_TRUE(StartData(a, port()));
  ASSERT_TRUE(a.Send(DotStuff(SimpleMessage("inflight-a", half))));  // no end: ~700 KiB held
  ASSERT_TRUE(PollUntil([&] { return InflightBytes(gw_->admin_port()) >= 700 * 1024; }, 10s))
      << "gauge: " << InflightBytes(gw_->admin_port());

  ASSERT_TRUE(StartData(b, port()));
  ASSERT_TRUE(b.Send(DotStuff(SimpleMessage("inflight-b-refused", half)) + ".\r\n"));
  EXPECT_TRUE(ReplyIs(b.ReadReply(), "452 4.3.1"));
  EXPECT_TRUE(gw_->log().WaitFor("event=reject\\b.*reason=\"in-flight data limit\"", 2s));

  // A finishes and its memory is given back; B's retry in the same session now fits.
  ASSERT_TRUE(a.Send("\r\n.\r\n"));
  EXPECT_TRUE(ReplyIs(a.ReadReply(), "250 2.0.0"));
  ASSERT_TRUE(PollUntil([&] { return InflightBytes(gw_->admin_port()) == 0; }, 10s));
  ASSERT_TRUE(ReplyIs(b.Command("MAIL FROM:<a@client.test>"), "250"));
  ASSERT_TRUE(ReplyIs(b.Command("RCPT TO:<u@example.com>"), "250"));
  ASSERT_TRUE(ReplyIs(b.Command("DATA"), "354"));
  ASSERT_TRUE(b.Send(DotStuff(SimpleMessage("inflight-b-retry", half)) + ".\r\n"));
  EXPECT_TRUE(ReplyIs(b.ReadReply(), "250 2.0.0"));

  EXPECT_TRUE(AwaitDelivery("inflight-a@"));
  EXPECT_TRUE(AwaitDelivery("inflight-b-retry@"));
  EXPECT_TRUE(sink_.MessagesContaining("inflight-b-refused@").empty());
}

}  // namespace
}  // namespace sw::it
