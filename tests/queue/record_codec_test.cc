// Tests the envelope record encoding: round trip, version and checksum rejection.
// A failure means records could be misread after a restart.
#include "queue/record_codec.h"

#include <gtest/gtest.h>

namespace sw::queue {
namespace {

Envelope Sample() {
  Envelope e;
  e.id = "0006207A1B2C3D4E";
  e.arrival_ms = 1795000000123;
  e.sender = "s\xc3\xa9nder@example.net";
  e.size = 4096;
  e.client_ip = "192.0.2.7";
  e.helo = "client.example.net";
  e.smtputf8 = true;
  e.held = true;
  e.attempts = 3;
  e.next_attempt_ms = -5;
  e.last_error = "451 4.3.0 try later";
  e.recipients = {{"a@example.com", "example.com", RcptState::kPending, ""},
                  {"b@example.com", "example.com", RcptState::kDelivered, "250 ok"},
                  {"c@example.org", "example.org", RcptState::kFailed, "550 no"}};
  return e;
}

TEST(RecordCodec, RoundTripKeepsEveryField) {
  Envelope e = Sample();
  auto d = DecodeEnvelope(EncodeEnvelope(e));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->id, e.id);
  EXPECT_EQ(d->arrival_ms, e.arrival_ms);
  EXPECT_EQ(d->sender, e.sender);
  EXPECT_EQ(d->size, e.size);
  EXPECT_EQ(d->client_ip, e.client_ip);
  EXPECT_EQ(d->helo, e.helo);
  EXPECT_TRUE(d->smtputf8);
  EXPECT_FALSE(d->eightbit);
  EXPECT_TRUE(d->held);
  EXPECT_EQ(d->attempts, 3u);
  EXPECT_EQ(d->next_attempt_ms, -5);
  EXPECT_EQ(d->last_error, e.last_error);
  ASSERT_EQ(d->recipients.size(), 3u);
  EXPECT_EQ(d->recipients[1].state, RcptState::kDelivered);
  EXPECT_EQ(d->recipients[2].domain, "example.org");
  EXPECT_EQ(d->recipients[2].last_reply, "550 no");
}

TEST(RecordCodec, AnyFlippedByteIsDetected) {
  std::string enc = EncodeEnvelope(Sample());
  for (size_t i = 0; i < enc.size(); ++i) {
    std::string bad = enc;
    bad[i] ^= 0x20;
    EXPECT_FALSE(DecodeEnvelope(bad)) << "flip at " << i;
  }
}

TEST(RecordCodec, TruncationIsDetected) {
  std::string enc = EncodeEnvelope(Sample());
  for (size_t n = 0; n < enc.size(); ++n) EXPECT_FALSE(DecodeEnvelope(enc.substr(0, n)));
}

TEST(RecordCodec, Crc32cKnownVector) { EXPECT_EQ(Crc32c("123456789"), 0xE3069283u); }

}  // namespace
}  // namespace sw::queue
