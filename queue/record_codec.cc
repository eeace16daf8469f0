// Owns the on-disk encoding of envelopes: versioned, length-prefixed, CRC-32C checksummed.
// Fails by returning nullopt on any truncation, unknown version or checksum mismatch.
#include "queue/record_codec.h"

#include <array>
#include <cstring>

namespace sw::queue {
namespace {

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kTable = MakeTable();

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool Varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (d_.empty()) return false;
      uint8_t b = static_cast<uint8_t>(d_[0]);
      d_.remove_prefix(1);
      r |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        *v = r;
        return true;
      }
    }
    return false;
  }
  bool String(std::string* s) {
    uint64_t n;
    if (!Varint(&n) || n > d_.size()) return false;
    s->assign(d_.substr(0, n));
    d_.remove_prefix(n);
    return true;
  }
  bool empty() const { return d_.empty(); }

 private:
  std::string_view d_;
};

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

}  // namespace

uint32_t Crc32c(std::string_view data, uint32_t crc) {
  crc = ~crc;
  for (unsigned char c : data) crc = kTable[(crc ^ c) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::string EncodeEnvelope(const Envelope& e) {
  std::string out;
  out.reserve(128 + e.recipients.size() * 48);
  out.push_back(static_cast<char>(kEnvelopeVersion));
  PutString(out, e.id);
  PutVarint(out, ZigZag(e.arrival_ms));
  PutString(out, e.sender);
  PutVarint(out, e.size);
  PutString(out, e.client_ip);
  PutString(out, e.helo);
  // Flag bits only ever get added: a record written before a bit existed decodes it as false.
  uint64_t flags = (e.smtputf8 ? 1 : 0) | (e.eightbit ? 2 : 0) | (e.held ? 4 : 0) |
                   (e.delay_warned ? 8 : 0) | (e.spam_tagged ? 16 : 0);
  PutVarint(out, flags);
  PutVarint(out, e.attempts);
  PutVarint(out, ZigZag(e.next_attempt_ms));
  PutString(out, e.last_error);
  PutVarint(out, e.recipients.size());
  for (const auto& r : e.recipients) {
    PutString(out, r.address);
    PutString(out, r.domain);
    PutVarint(out, static_cast<uint64_t>(r.state));
    PutString(out, r.last_reply);
  }
  uint32_t crc = Crc32c(out);
  char c[4];
  std::memcpy(c, &crc, 4);
  out.append(c, 4);
  return out;
}

std::optional<Envelope> DecodeEnvelope(std::string_view data) {
  if (data.size() < 5) return std::nullopt;
  uint32_t stored;
  std::memcpy(&stored, data.data() + data.size() - 4, 4);
  std::string_view payload = data.substr(0, data.size() - 4);
  if (Crc32c(payload) != stored) return std::nullopt;
  if (static_cast<uint8_t>(payload[0]) != kEnvelopeVersion) return std::nullopt;
  Reader r(payload.substr(1));
  Envelope e;
  uint64_t v, flags, n;
  if (!r.String(&e.id) || !r.Varint(&v)) return std::nullopt;
  e.arrival_ms = UnZigZag(v);
  if (!r.String(&e.sender) || !r.Varint(&e.size) || !r.String(&e.client_ip) || !r.String(&e.helo) ||
      !r.Varint(&flags) || !r.Varint(&v))
    return std::nullopt;
  e.smtputf8 = flags & 1;
  e.eightbit = flags & 2;
  e.held = flags & 4;
  e.delay_warned = flags & 8;
  e.spam_tagged = flags & 16;
  e.attempts = static_cast<uint32_t>(v);
  if (!r.Varint(&v)) return std::nullopt;
  e.next_attempt_ms = UnZigZag(v);
  if (!r.String(&e.last_error) || !r.Varint(&n) || n > 100000) return std::nullopt;
  e.recipients.resize(n);
  for (auto& rc : e.recipients) {
    if (!r.String(&rc.address) || !r.String(&rc.domain) || !r.Varint(&v) || v > 2 ||
        !r.String(&rc.last_reply))
      return std::nullopt;
    rc.state = static_cast<RcptState>(v);
  }
  if (!r.empty()) return std::nullopt;
  return e;
}

}  // namespace sw::queue
