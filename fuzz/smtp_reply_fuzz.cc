// Owns fuzzing of the outbound SMTP client's wire helpers: a server's reply lines (with EHLO
// keywords) and the dot-stuffing of a body sent in chunks. Fails (aborts) on a broken invariant.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "routing/smtp_wire.h"

namespace {

using namespace sw::routing;

// Feeds `text`'s lines (LF-separated, one trailing CR stripped, as the connection reads them) to
// one ReplyBuilder until it is done or fails; checks what a finished reply may hold.
void Replies(std::string_view text, bool ehlo) {
  wire::Extensions ext;
  wire::ReplyBuilder b(ehlo ? &ext : nullptr);
  size_t lines = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++lines;
    wire::ReplyBuilder::Status s = b.Add(line);
    if (s == wire::ReplyBuilder::Status::kError) {
      FUZZ_CHECK(b.error()[0] != '\0');
      return;
    }
    FUZZ_CHECK(lines <= wire::kMaxReplyLines);
    if (s == wire::ReplyBuilder::Status::kMore) continue;
    SmtpReply r = b.Take();
    FUZZ_CHECK(r.code >= 100 && r.code <= 599);
    if (!r.enhanced.empty()) {  // "C.S.D" whose class is the reply's
      FUZZ_CHECK(r.enhanced[0] - '0' == r.code / 100);
      FUZZ_CHECK(r.enhanced.size() <= wire::kMaxReplyLine);
    }
    // Joined with "; ": bounded by what was read.
    FUZZ_CHECK(r.text.size() <= lines * (wire::kMaxReplyLine + 2));
    const std::string f = wire::FormatReply(r);
    FUZZ_CHECK(f.rfind(std::to_string(r.code), 0) == 0);
    FUZZ_CHECK(ext.size || ext.max_size == 0);  // a limit only comes with the SIZE keyword
    return;
  }
}

// The chunked stuffer gives exactly the one-shot wire form, which un-stuffs to the body.
void Stuffing(std::string_view body, size_t chunk) {
  const std::string whole = wire::DotStuff(body);
  std::string chunks;
  wire::DotStuffer s(body);
  size_t calls = 0;
  while (s.Next(chunks, chunk)) FUZZ_CHECK(++calls <= body.size() + 2);
  FUZZ_CHECK(chunks == whole);
  FUZZ_CHECK(whole.size() >= 3 && whole.compare(whole.size() - 3, 3, ".\r\n") == 0);
  // Reading it back as a receiver does: drop the end marker, then one '.' from every line
  // that starts with one.
  std::string back;
  std::string_view w(whole);
  w.remove_suffix(3);
  bool line_start = true;
  for (char c : w) {
    if (line_start && c == '.') {
      line_start = false;
      continue;
    }
    back.push_back(c);
    line_start = c == '\n';
  }
  std::string expect(body);
  if (!expect.empty() &&
      expect.compare(expect.size() - std::min<size_t>(2, expect.size()), 2, "\r\n") != 0)
    expect += "\r\n";
  FUZZ_CHECK(back == expect);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const bool ehlo = in.ConsumeBool();
  const size_t chunk = in.ConsumeIntegralInRange<size_t>(0, 64);
  const std::string text = in.ConsumeRemainingBytesAsString();
  Replies(text, ehlo);
  Stuffing(text, chunk);
  return 0;
}
