// Owns the ScanRequest the live gateway would build for a corpus message (envelope, our
// Received header, CRLF body). Pure functions; nothing here fails.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "filters/filter.h"

namespace sw::qa {

// The SMTP side of a scan: who "connected" and for whom the message is.
struct ScanEnvelope {
  std::string client_ip = "127.0.0.1";
  std::string helo = "localhost";
  std::string recipient;  // e.g. "user@example.com"
  std::string default_sender = "qa-scan@localhost";
};

// The envelope sender for `message`: the address of its Return-Path header, else of its
// From header, else `fallback`. "<>" in Return-Path gives the null sender (empty).
std::string SenderOf(std::string_view message, const std::string& fallback);

// Line endings as DATA leaves them: bare LF / bare CR -> CRLF, a final CRLF added.
std::string NormalizeCrlf(std::string_view message);
// NormalizeCrlf(message).size() without the copy: what the gateway counts against
// server.max_message_size.
size_t NormalizedSize(std::string_view message);

// The gateway's Received header (common/received_header.h) for one recipient.
std::string ReceivedHeader(const std::string& helo, const std::string& ip,
                           const std::string& hostname, const std::string& id,
                           const std::string& recipient);

// A 16-hex-digit ID for the n-th scanned message (rspamd's Queue-Id).
std::string ScanId(uint64_t n);

// The first domain (sorted by name) that filters; empty when none does. Scan and train
// address their messages to user@ that domain unless told otherwise.
std::string FirstFilteringDomain(const config::Config& cfg);

// The whole request: Received header + normalized message, envelope, our hostname.
filters::ScanRequest BuildScanRequest(std::string_view message, uint64_t n, const ScanEnvelope& env,
                                      std::shared_ptr<const config::Config> config);

}  // namespace sw::qa
