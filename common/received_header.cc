// Owns the text of the one Received header we add to each accepted message (SPEC section 4),
// built from sanitised fields. Pure function; nothing here fails.
#include "common/received_header.h"

#include "common/header_text.h"

namespace sw {

std::string ReceivedHeader(const ReceivedFields& f) {
  const TextCharset cs = f.utf8 ? TextCharset::kUtf8 : TextCharset::kAscii;
  std::string h =
      "Received: from " + HeaderText(f.helo, cs, 255) + " ([" +
      HeaderText(f.client_ip, TextCharset::kAscii, 64) + "])\r\n\tby " +
      HeaderText(f.hostname, TextCharset::kAscii, 255) +
      (f.product.empty() ? "" : " (" + HeaderText(f.product, TextCharset::kAscii, 64) + ")") +
      " with " + HeaderText(f.protocol, TextCharset::kAscii, 16) + " id " +
      HeaderText(f.id, TextCharset::kAscii, 64);
  if (!f.recipient.empty()) h += "\r\n\tfor <" + HeaderText(f.recipient, cs, 600) + ">";
  h += "; " + HeaderText(f.date, TextCharset::kAscii, 64) + "\r\n";
  return h;
}

}  // namespace sw
