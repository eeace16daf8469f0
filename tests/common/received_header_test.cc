// Tests our Received header: its exact shape, and that no field can add a line or a control
// byte to it. Fails naming the field that broke it.
#include "common/received_header.h"

#include <gtest/gtest.h>

#include <string>

namespace sw {
namespace {

ReceivedFields Fields() {
  ReceivedFields f;
  f.helo = "client.test";
  f.client_ip = "192.0.2.1";
  f.hostname = "mx.example.net";
  f.protocol = "ESMTPS";
  f.id = "00062F6A3C1B2D40";
  f.date = "Mon, 30 Nov 2026 05:50:00 +0000";
  return f;
}

TEST(ReceivedHeader, ShapeWithAndWithoutRecipient) {
  ReceivedFields f = Fields();
  EXPECT_EQ(ReceivedHeader(f),
            "Received: from client.test ([192.0.2.1])\r\n\tby mx.example.net (SpamWeeder) with "
            "ESMTPS id 00062F6A3C1B2D40; Mon, 30 Nov 2026 05:50:00 +0000\r\n");
  f.recipient = "bob@example.com";
  EXPECT_EQ(ReceivedHeader(f),
            "Received: from client.test ([192.0.2.1])\r\n\tby mx.example.net (SpamWeeder) with "
            "ESMTPS id 00062F6A3C1B2D40\r\n\tfor <bob@example.com>; Mon, 30 Nov 2026 05:50:00 "
            "+0000\r\n");
  // White label (server.received_product): another name, or no comment at all.
  f.product = "Acme Mail Shield";
  EXPECT_EQ(ReceivedHeader(f).rfind("Received: from client.test ([192.0.2.1])\r\n\tby "
                                    "mx.example.net (Acme Mail Shield) with ESMTPS id ",
                                    0),
            0u)
      << ReceivedHeader(f);
  f.product = "";
  EXPECT_EQ(
      ReceivedHeader(f).rfind(
          "Received: from client.test ([192.0.2.1])\r\n\tby mx.example.net with ESMTPS id ", 0),
      0u)
      << ReceivedHeader(f);
}

// Three lines, each ending in CRLF, the second and third folded with a TAB, nothing else
// below 0x20.
void ExpectClean(const std::string& h, const std::string& what) {
  size_t lines = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(h[i]);
    if (c == '\r') {
      ASSERT_TRUE(i + 1 < h.size() && h[i + 1] == '\n') << what << ": bare CR in\n" << h;
      ++lines;
      ++i;
      if (i + 1 < h.size()) {
        ASSERT_EQ(h[i + 1], '\t') << what << ": unfolded line in\n" << h;
      }
      ++i;
      continue;
    }
    ASSERT_FALSE(c < 0x20 || c == 0x7f) << what << ": control byte " << int(c) << " in\n" << h;
  }
  EXPECT_LE(lines, 3u) << what;
  EXPECT_EQ(h.substr(h.size() - 2), "\r\n") << what;
}

TEST(ReceivedHeader, InjectionInAnyFieldStaysOnItsLine) {
  const std::string evil = "x\rX-Injected: yes\r\n\r\nbody\n.\n\0\x7f\xc2\x85";
  const std::string long_evil(3000, '\r');
  std::string_view ReceivedFields::*fields[] = {
      &ReceivedFields::helo,     &ReceivedFields::client_ip, &ReceivedFields::hostname,
      &ReceivedFields::protocol, &ReceivedFields::id,        &ReceivedFields::recipient,
      &ReceivedFields::date};
  for (auto field : fields) {
    for (const std::string* v : {&evil, &long_evil}) {
      for (bool utf8 : {false, true}) {
        ReceivedFields f = Fields();
        f.recipient = "bob@example.com";
        f.utf8 = utf8;
        f.*field = *v;
        std::string h = ReceivedHeader(f);
        ExpectClean(h, "field with " + std::to_string(v->size()) + " octets");
        size_t start = 0;
        while (start < h.size()) {
          size_t eol = h.find("\r\n", start);
          EXPECT_LE(eol - start, 998u);
          start = eol + 2;
        }
      }
    }
  }
}

TEST(ReceivedHeader, Utf8HeloOnlyInAnSmtputf8Transaction) {
  ReceivedFields f = Fields();
  f.helo = "b\xc3\xbc\x63her.example";
  EXPECT_EQ(ReceivedHeader(f).rfind("Received: from b?cher.example (", 0), 0u);
  f.utf8 = true;
  EXPECT_EQ(ReceivedHeader(f).rfind("Received: from b\xc3\xbc\x63her.example (", 0), 0u);
}

}  // namespace
}  // namespace sw
