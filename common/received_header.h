// Owns the text of the one Received header we add to each accepted message (SPEC section 4),
// built from sanitised fields. Pure function; nothing here fails.
#pragma once

#include <string>
#include <string_view>

namespace sw {

struct ReceivedFields {
  std::string_view helo;                    // the client's HELO/EHLO argument
  std::string_view client_ip;               // without brackets
  std::string_view hostname;                // ours
  std::string_view product = "SpamWeeder";  // the comment after hostname; empty: none
  std::string_view protocol;                // "ESMTP", "ESMTPS", "UTF8SMTPS", ...
  std::string_view id;                      // queue ID
  std::string_view recipient;               // the one recipient (empty: none named)
  std::string_view date;                    // RFC 5322 date
  bool utf8 = false;                        // SMTPUTF8 transaction: UTF-8 text may stay
};

// "Received: from HELO ([IP])\r\n\tby HOST (PRODUCT) with PROTO id ID\r\n\tfor <RCPT>;
// DATE\r\n": every field through HeaderText, so no line holds a control byte, every line ends
// in CRLF and none is longer than 998 octets.
std::string ReceivedHeader(const ReceivedFields& f);

}  // namespace sw
