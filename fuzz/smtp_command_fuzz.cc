// Owns fuzzing of the SMTP command parser: each input line through SplitCommand, ParseHelo,
// ParseMail and ParseRcpt. Fails (aborts) when an accepted value breaks the parser's contract.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/header_text.h"
#include "fuzz/fuzz_check.h"
#include "gateway/smtp_command.h"

namespace {

using namespace sw::gateway;
using sw::fuzz::NoAsciiControl;

bool HasUpper(std::string_view s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z') return true;
  return false;
}

void CheckError(const Reply& e) {
  FUZZ_CHECK(e.code == 501 || e.code == 555);
  FUZZ_CHECK(e.text != nullptr && e.text[0] == '5');
}

void CheckLine(std::string_view line) {
  CommandLine cmd = SplitCommand(line);
  // args is a piece of the line, trimmed.
  if (!cmd.args.empty()) {
    FUZZ_CHECK(cmd.args.data() >= line.data() &&
               cmd.args.data() + cmd.args.size() <= line.data() + line.size());
    FUZZ_CHECK(cmd.args.front() != ' ' && cmd.args.front() != '\t');
    FUZZ_CHECK(cmd.args.back() != ' ' && cmd.args.back() != '\t');
  }

  for (std::string_view args : {cmd.args, line}) {
    // HELO/EHLO: the name goes into our Received header as is.
    auto helo = ParseHelo(args);
    if (helo.value) {
      FUZZ_CHECK(!helo.value->empty() && helo.value->size() <= 255);
      FUZZ_CHECK(NoAsciiControl(*helo.value));
      FUZZ_CHECK(sw::IsHeaderText(*helo.value));
      FUZZ_CHECK(helo.value->find(' ') == std::string::npos);
    } else {
      CheckError(helo.error);
    }

    // MAIL FROM: the address reaches the queue, rspamd, DSNs and the destination's MAIL FROM.
    auto mail = ParseMail(args);
    if (mail.value) {
      const std::string& a = mail.value->address;
      FUZZ_CHECK(NoAsciiControl(a));
      FUZZ_CHECK(a.empty() || a.find('@') != std::string::npos);
      FUZZ_CHECK(a.size() <= 64 * 4 + 1 + 255);  // source route dropped, parts bounded
    } else {
      CheckError(mail.error);
    }

    // RCPT TO: the address is written to the destination's RCPT TO and to headers.
    auto rcpt = ParseRcpt(args);
    if (rcpt.value) {
      const RcptParams& r = *rcpt.value;
      FUZZ_CHECK(NoAsciiControl(r.address));
      FUZZ_CHECK(NoAsciiControl(r.local));
      FUZZ_CHECK(NoAsciiControl(r.domain));
      FUZZ_CHECK(!r.local.empty() || r.address.front() == '"');
      FUZZ_CHECK(!r.domain.empty());
      FUZZ_CHECK(r.domain.size() <= 255);
      if (r.domain_literal) {
        FUZZ_CHECK(r.domain.front() == '[' && r.domain.back() == ']');
      } else {
        FUZZ_CHECK(!HasUpper(r.domain));
        FUZZ_CHECK(r.domain.back() != '.');
      }
      FUZZ_CHECK(r.address.find('@') != std::string::npos);
    } else {
      CheckError(rcpt.error);
    }
  }
}

}  // namespace

// The input is a session's command stream: lines end at LF, a CR before it is dropped, as the
// session's ReadLine does.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t pos = 0;
  while (pos <= in.size()) {
    size_t nl = in.find('\n', pos);
    std::string_view line = in.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    CheckLine(line);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return 0;
}
