// Owns fuzzing of the header editor: random verdict edits (add, remove, Subject) on random
// messages, raw and as stored. Fails (aborts) when an edit breaks lines, the body or our header.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "filters/message_edit.h"
#include "fuzz/fuzz_check.h"
#include "gateway/data_reader.h"

namespace {

using sw::filters::ApplyHeaderChanges;
using sw::filters::NormalizeHeaderValue;
using sw::filters::ValidHeaderName;
using sw::filters::Verdict;
using sw::fuzz::CleanLines;
using sw::fuzz::OnlyCrlf;

constexpr std::string_view kReceived =
    "Received: from client.example (client.example [192.0.2.1])\r\n"
    "\tby mx.example.net with ESMTP id 00062F6A3C1B2D40; Mon, 1 Jan 2024 00:00:00 +0000\r\n";

// A header field name: mostly plausible ones, sometimes anything.
std::string Name(FuzzedDataProvider& fdp) {
  static constexpr const char* kNames[] = {"Subject", "X-Spam",   "X-Spamd-Result", "Received",
                                           "From",    "subject",  "X-Virus",        "To",
                                           "",        "Bad Name", "X:Colon",        "Date"};
  if (fdp.ConsumeBool()) return kNames[fdp.ConsumeIntegralInRange<size_t>(0, 11)];
  return fdp.ConsumeRandomLengthString(120);
}

// Stored form: what the DATA reader keeps (CRLF lines), after our Received header.
std::string Stored(std::string_view client) {
  sw::gateway::DataReader reader(uint64_t{1} << 20);
  reader.Feed(client);
  reader.Feed("\r\n.\r\n");
  return std::string(kReceived) + reader.body();
}

// Where the header section ends as the editor sees it: the first empty line ("\r\n" or "\n").
size_t HeaderEnd(std::string_view m) {
  size_t pos = 0;
  while (pos < m.size()) {
    size_t eol = m.find('\n', pos);
    size_t next = eol == std::string_view::npos ? m.size() : eol + 1;
    std::string_view line = m.substr(pos, next - pos);
    if (line == "\r\n" || line == "\n") return pos;
    pos = next;
  }
  return m.size();
}

bool EndsWith(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  Verdict v;
  const size_t adds = fdp.ConsumeIntegralInRange<size_t>(0, 4);
  for (size_t i = 0; i < adds; ++i) {
    std::string name = Name(fdp);
    v.add_headers.push_back({name, fdp.ConsumeRandomLengthString(2000)});
  }
  const size_t removes = fdp.ConsumeIntegralInRange<size_t>(0, 4);
  for (size_t i = 0; i < removes; ++i) {
    std::string name = Name(fdp);
    v.remove_headers.push_back({name, fdp.ConsumeIntegralInRange<int>(-4, 4)});
  }
  if (fdp.ConsumeBool()) v.subject_prefix = fdp.ConsumeRandomLengthString(80);
  if (fdp.ConsumeBool()) v.new_subject = fdp.ConsumeRandomLengthString(2000);
  const bool as_stored = fdp.ConsumeBool();
  const std::string client = fdp.ConsumeRemainingBytesAsString();

  // Every header value we write: CRLF folds followed by whitespace, no other control byte.
  for (const auto& h : v.add_headers) {
    std::string value = NormalizeHeaderValue(h.value);
    FUZZ_CHECK(CleanLines(value));
    for (size_t crlf = value.find("\r\n"); crlf != std::string::npos;
         crlf = value.find("\r\n", crlf + 2))
      FUZZ_CHECK(crlf + 2 < value.size() && (value[crlf + 2] == ' ' || value[crlf + 2] == '\t'));
    if (ValidHeaderName(h.name))
      FUZZ_CHECK(sw::fuzz::NoAsciiControl(h.name) &&
                 h.name.find_first_of(" :") == std::string::npos);
  }

  if (!as_stored) {  // anything at all: must not crash, the body is never touched
    std::string out = ApplyHeaderChanges(client, v);
    FUZZ_CHECK(EndsWith(out, std::string_view(client).substr(HeaderEnd(client))));
    return 0;
  }

  const std::string m = Stored(client);
  const std::string out = ApplyHeaderChanges(m, v);
  // CRLF lines in, CRLF lines out.
  FUZZ_CHECK(OnlyCrlf(out));
  // Our Received header stays first, whole.
  FUZZ_CHECK(out.compare(0, kReceived.size(), kReceived) == 0);
  // The body (from the blank line on) is untouched.
  const size_t header_end = HeaderEnd(m);
  FUZZ_CHECK(EndsWith(out, std::string_view(m).substr(header_end)));
  // No edit: the message as it was.
  if (v.add_headers.empty() && v.remove_headers.empty() && v.subject_prefix.empty() &&
      v.new_subject.empty())
    FUZZ_CHECK(out == m);
  // What we add to a clean header section keeps it clean.
  std::string_view header(m.data(), header_end);
  std::string_view out_header(out.data(), HeaderEnd(out));
  if (CleanLines(header)) FUZZ_CHECK(CleanLines(out_header));
  return 0;
}
