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

TEST(RecordCodec, SpamTaggedRoundTrips) {
  Envelope e = Sample();
  e.spam_tagged = true;
  auto d = DecodeEnvelope(EncodeEnvelope(e));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->spam_tagged);
  EXPECT_TRUE(d->held);
  EXPECT_TRUE(d->smtputf8);
  EXPECT_FALSE(DecodeEnvelope(EncodeEnvelope(Sample()))->spam_tagged);
}

// A record written before spam_tagged existed (flag bits 1..8 only), laid out by hand as the
// earlier encoder wrote it, decodes with spam_tagged false.
TEST(RecordCodec, RecordWithoutSpamTaggedBitDecodesFalse) {
  auto str = [](std::string& out, std::string_view v) {
    out.push_back(static_cast<char>(v.size()));
    out.append(v);
  };
  std::string rec(1, static_cast<char>(kEnvelopeVersion));
  str(rec, "0006207A1B2C3D4E");
  rec.push_back(0);  // arrival_ms 0 (zigzag)
  str(rec, "s@example.net");
  rec.push_back(10);  // size
  str(rec, "192.0.2.7");
  str(rec, "client.example.net");
  rec.push_back(static_cast<char>(1 | 4 | 8));  // smtputf8, held, delay_warned
  rec.push_back(2);                             // attempts
  rec.push_back(0);                             // next_attempt_ms
  str(rec, "");                                 // last_error
  rec.push_back(1);                             // one recipient
  str(rec, "a@example.com");
  str(rec, "example.com");
  rec.push_back(0);  // pending
  str(rec, "");
  uint32_t crc = Crc32c(rec);
  rec.append(reinterpret_cast<const char*>(&crc), 4);
  auto d = DecodeEnvelope(rec);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->spam_tagged);
  EXPECT_TRUE(d->delay_warned);
  EXPECT_TRUE(d->held);
  EXPECT_EQ(d->attempts, 2u);
  ASSERT_EQ(d->recipients.size(), 1u);
  EXPECT_EQ(d->recipients[0].address, "a@example.com");
}

TEST(RecordCodec, Crc32cKnownVector) { EXPECT_EQ(Crc32c("123456789"), 0xE3069283u); }

}  // namespace
}  // namespace sw::queue
