// Owns fuzzing of the DATA reader: one stream fed whole, in random splits, byte by byte and with
// a Discard() midway. Fails (aborts) on a bare CR/LF, a split-dependent result or a false end.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "gateway/data_reader.h"

namespace {

using sw::fuzz::OnlyCrlf;
using sw::gateway::DataReader;

struct Run {
  size_t consumed = 0;
  bool done = false, too_big = false, eightbit = false, discarded = false;
  uint64_t size = 0, bare_cr = 0, bare_lf = 0;
  std::string body;
};

// Feeds `in` in chunks of 1..max_chunk bytes (0: all at once); Discard() before chunk `discard_at`.
Run Feed(std::string_view in, uint64_t max_size, uint32_t seed, size_t max_chunk,
         size_t discard_at) {
  DataReader r(max_size);
  std::minstd_rand rng(seed);
  Run out;
  size_t pos = 0;
  size_t chunk_no = 0;
  while (pos < in.size() && !r.done()) {
    if (chunk_no++ == discard_at) r.Discard();
    size_t len = max_chunk == 0 ? in.size() - pos : 1 + rng() % max_chunk;
    std::string_view chunk = in.substr(pos, len);
    size_t n = r.Feed(chunk);
    FUZZ_CHECK(n <= chunk.size());
    FUZZ_CHECK(r.done() || n == chunk.size());  // only the end marker stops it early
    pos += n;
  }
  out.consumed = pos;
  out.done = r.done();
  out.too_big = r.too_big();
  out.eightbit = r.eightbit();
  out.discarded = r.discarded();
  out.size = r.size();
  out.bare_cr = r.bare_cr();
  out.bare_lf = r.bare_lf();
  out.body = r.body();
  return out;
}

void CheckSame(const Run& a, const Run& b, bool same_body) {
  FUZZ_CHECK(a.consumed == b.consumed);
  FUZZ_CHECK(a.done == b.done);
  FUZZ_CHECK(a.too_big == b.too_big);
  FUZZ_CHECK(a.eightbit == b.eightbit);
  FUZZ_CHECK(a.size == b.size);
  FUZZ_CHECK(a.bare_cr == b.bare_cr);
  FUZZ_CHECK(a.bare_lf == b.bare_lf);
  if (same_body) FUZZ_CHECK(a.body == b.body);
}

// What an SMTP client sends for `body` (CRLF lines): dot-stuffed, then the end marker.
std::string Stuff(const std::string& body) {
  std::string out;
  bool line_start = true;
  for (char c : body) {
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = c == '\n';
  }
  out += ".\r\n";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const uint8_t limit = fdp.ConsumeIntegral<uint8_t>();
  const uint64_t max_size = limit < 128 ? limit : uint64_t{1} << 20;
  const uint32_t seed = fdp.ConsumeIntegral<uint32_t>();
  const size_t discard_at = fdp.ConsumeIntegralInRange<size_t>(0, 16);
  const std::string stream = fdp.ConsumeRemainingBytesAsString();

  Run whole = Feed(stream, max_size, seed, 0, SIZE_MAX);
  // The body: CRLF lines only, its size counted, even when cut by the size cap.
  FUZZ_CHECK(OnlyCrlf(whole.body));
  FUZZ_CHECK(whole.too_big == (whole.size > max_size));
  if (!whole.too_big) FUZZ_CHECK(whole.body.size() == whole.size);
  if (whole.done) {
    // DATA ends only at CRLF.CRLF (or ".CRLF" as the very first line), never at a bare CR/LF.
    std::string_view seen(stream.data(), whole.consumed);
    FUZZ_CHECK(seen.size() >= 3 && seen.substr(seen.size() - 3) == ".\r\n");
    FUZZ_CHECK(seen.size() == 3 || seen.substr(seen.size() - 5, 2) == "\r\n");
    if (!whole.too_big)
      FUZZ_CHECK(whole.body.empty() || whole.body.substr(whole.body.size() - 2) == "\r\n");
  } else {
    FUZZ_CHECK(whole.consumed == stream.size());
  }

  // Where the network splits the stream changes nothing.
  CheckSame(whole, Feed(stream, max_size, seed, 7, SIZE_MAX), !whole.too_big);
  CheckSame(whole, Feed(stream, max_size, seed, 1, SIZE_MAX), !whole.too_big);
  CheckSame(whole, Feed(stream, max_size, seed ^ 0x5a5a5a5a, 600, SIZE_MAX), !whole.too_big);
  // A discarded body is still read to its end and counted, and nothing of it is kept.
  Run discarded = Feed(stream, max_size, seed, 5, discard_at);
  CheckSame(whole, discarded, false);
  if (discarded.discarded) FUZZ_CHECK(discarded.body.empty());

  // What we relay (the body dot-stuffed by our SMTP client) reads back as the same body.
  if (whole.done && !whole.too_big) {
    std::string wire = Stuff(whole.body);
    Run again = Feed(wire, uint64_t{1} << 21, seed, 0, SIZE_MAX);
    FUZZ_CHECK(again.done && again.consumed == wire.size());
    FUZZ_CHECK(again.body == whole.body);
    FUZZ_CHECK(again.bare_cr == 0 && again.bare_lf == 0);
  }
  return 0;
}
