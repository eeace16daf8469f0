// Owns fuzzing of the rspamd /checkv2 reply parser, and of its header edits applied to a stored
// message. Fails (aborts) on a malformed result or when a reply could inject into our headers.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "filters/message_edit.h"
#include "filters/rspamd_response.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace sw::filters;
using sw::fuzz::CleanLines;

constexpr std::string_view kMessage =
    "Received: from client.example (client.example [192.0.2.1])\r\n"
    "\tby mx.example.net with ESMTP id 00062F6A3C1B2D40; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    "From: <alice@example.net>\r\n"
    "To: <bob@example.com>\r\n"
    "Subject: hello\r\n"
    "X-Spam: client says no\r\n"
    "\r\n"
    "first message\r\n";
constexpr std::string_view kBody = "\r\nfirst message\r\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  FilterResult r = ParseCheckV2(text);
  FUZZ_CHECK(r.filter == "rspamd");
  if (!r.ok()) {
    FUZZ_CHECK(r.outcome == FilterOutcome::kFailed && !r.error.empty());
    return 0;
  }
  FUZZ_CHECK(r.has_score && std::isfinite(r.score));
  for (size_t i = 0; i < r.symbols.size(); ++i) {
    FUZZ_CHECK(std::isfinite(r.symbols[i].score));
    if (i > 0) {  // highest score first, then by name
      const Symbol& a = r.symbols[i - 1];
      const Symbol& b = r.symbols[i];
      FUZZ_CHECK(a.score > b.score || (a.score == b.score && !(b.name < a.name)));
    }
  }
  for (const auto& rm : r.remove_headers) FUZZ_CHECK(rm.index > -1000 && rm.index < 1000);

  // What the policy does with a tagged message: rspamd's edits on our stored message.
  Verdict v;
  v.disposition = Disposition::kTag;
  v.scanned = true;
  v.add_headers = r.add_headers;
  v.remove_headers = r.remove_headers;
  v.new_subject = r.subject;
  v.subject_prefix = "***SPAM***";
  const std::string out = ApplyHeaderChanges(kMessage, v);
  FUZZ_CHECK(out.size() >= kBody.size() && out.substr(out.size() - kBody.size()) == kBody);
  FUZZ_CHECK(out.rfind(kMessage.substr(0, kMessage.find("From:")), 0) == 0);
  // Nothing rspamd says brings a bare CR/LF or a control byte into the header section.
  FUZZ_CHECK(CleanLines(out));
  FUZZ_CHECK(out.find("\r\n\r\n") + 2 == out.size() - kBody.size());  // no early blank line
  return 0;
}
