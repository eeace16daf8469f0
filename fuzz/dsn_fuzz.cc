// Owns fuzzing of the DSN builder's input: hostile sender, recipient, status and remote reply
// texts, any arrival time, any stored message. Fails (aborts) when the DSN is not clean CRLF text.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "gateway/data_reader.h"
#include "queue/dsn.h"

namespace {

using sw::fuzz::CleanLines;
using sw::fuzz::LongestLine;
using sw::fuzz::OnlyCrlf;
using sw::queue::BuildDsn;
using sw::queue::DsnInput;
using sw::queue::DsnKind;
using sw::queue::DsnRecipient;
using sw::queue::HeaderSection;

constexpr std::string_view kReturnedHeaders =
    "Content-Type: text/rfc822-headers\r\n\r\n";  // the original's headers follow

// As the DATA reader stores a message: CRLF lines, unstuffed.
std::string Stored(std::string_view client) {
  sw::gateway::DataReader reader(uint64_t{1} << 20);
  reader.Feed(client);
  reader.Feed("\r\n.\r\n");
  return reader.body();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  DsnInput in;
  in.kind = fdp.ConsumeBool() ? DsnKind::kFailed : DsnKind::kDelayed;
  in.hostname = "mx.example.net";  // ours, from the config
  in.queue_id = "00062F6A3C1B2D40";
  in.sender = fdp.ConsumeRandomLengthString(1200);
  in.arrival_ms = fdp.ConsumeIntegral<int64_t>();
  const size_t n = fdp.ConsumeIntegralInRange<size_t>(0, 4);
  for (size_t i = 0; i < n; ++i) {
    DsnRecipient r;
    r.address = fdp.ConsumeRandomLengthString(1200);
    r.status = fdp.ConsumeRandomLengthString(40);
    r.diagnostic = fdp.ConsumeRandomLengthString(2000);
    r.remote_mta = fdp.ConsumeRandomLengthString(400);
    in.recipients.push_back(std::move(r));
  }
  const bool with_original = fdp.ConsumeBool();
  const bool raw = fdp.ConsumeBool();
  const std::string client = fdp.ConsumeRemainingBytesAsString();
  const std::string original = raw ? client : Stored(client);
  if (with_original) in.original = &original;

  // The header section: a prefix of the message; of a CRLF message, whole CRLF lines.
  std::string headers = HeaderSection(original);
  FUZZ_CHECK(original.compare(0, headers.size(), headers) == 0);
  if (!raw) FUZZ_CHECK(headers.empty() || headers.substr(headers.size() - 2) == "\r\n");
  if (original.find("\r\n\r\n") == std::string::npos && original.size() > 65536)
    FUZZ_CHECK(headers.size() <= 65536 && (headers.empty() || headers.back() == '\n'));

  const std::string dsn = BuildDsn(in);
  // Our own part (everything before the returned headers): clean lines of at most 998 octets.
  size_t returned = dsn.find(kReturnedHeaders);
  FUZZ_CHECK(returned != std::string::npos);
  std::string_view own(dsn.data(), returned + kReturnedHeaders.size());
  FUZZ_CHECK(CleanLines(own));
  FUZZ_CHECK(LongestLine(own) <= 998);
  // A stored original keeps the whole DSN CRLF.
  if (!raw) FUZZ_CHECK(OnlyCrlf(dsn));
  FUZZ_CHECK(dsn.size() >= 4 && dsn.substr(dsn.size() - 4) == "--\r\n");
  return 0;
}
