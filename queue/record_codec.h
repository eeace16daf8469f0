// Owns the on-disk encoding of envelopes: versioned, length-prefixed, CRC-32C checksummed.
// Fails by returning nullopt on any truncation, unknown version or checksum mismatch.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "queue/envelope.h"

namespace sw::queue {

inline constexpr uint8_t kEnvelopeVersion = 1;

std::string EncodeEnvelope(const Envelope& env);
std::optional<Envelope> DecodeEnvelope(std::string_view data);
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace sw::queue
