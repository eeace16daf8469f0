// Owns what an alert says on each channel: the branded multipart email, the SMS text, the
// webhook's JSON body and its HMAC signature. Pure functions; nothing here fails.
#pragma once

#include <cstdint>
#include <string>

#include "alerts/alert_event.h"
#include "config/config.h"
#include "control/records.h"

namespace sw::alerts {

// The brand an alert goes out under: the reseller's, else the operator's `alerts.brand`.
struct Brand {
  std::string product_name, from, from_name, support_email, logo_url;
};
Brand BrandFor(const control::Reseller* reseller, const config::AlertBrand& operator_brand,
               const std::string& hostname);

// An RFC 5322 message (CRLF lines): From the brand, To `to`, multipart/alternative text +
// HTML, both base64; header values sanitised and RFC 2047-encoded when not ASCII.
std::string EmailMessage(const AlertEvent& e, const Brand& brand, const std::string& to,
                         const std::string& hostname, int64_t now_ms);
std::string EmailSubject(const AlertEvent& e, const Brand& brand);
// At most 320 characters (two SMS segments).
std::string SmsText(const AlertEvent& e, const Brand& brand);
// SPEC section 11's webhook JSON.
std::string WebhookBody(const AlertEvent& e, const Brand& brand);
// "sha256=<hex HMAC-SHA256 of body keyed with secret>".
std::string Signature(const std::string& secret, const std::string& body);

}  // namespace sw::alerts
