// Owns the alert texts: subject lines, the plain and HTML parts, SMS and webhook bodies.
// Fails never: every value is sanitised or escaped on the way in.
#include "alerts/alert_message.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>
#include <cstdio>
#include <ctime>

#include "common/header_text.h"
#include "common/html_text.h"
#include "common/json_text.h"

namespace sw::alerts {

namespace json = boost::json;

namespace {

std::string Base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

// Base64 in lines of 76 characters, CRLF-terminated (RFC 2045).
std::string Base64Lines(const std::string& in) {
  std::string b = Base64(in), out;
  for (size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
  return out;
}

bool Ascii(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

// A header value: sanitised; non-ASCII text as one RFC 2047 encoded word per 45 octets.
std::string HeaderValue(const std::string& raw) {
  std::string v = HeaderText(raw, TextCharset::kUtf8, 400);
  if (Ascii(v)) return v;
  std::string out;
  size_t i = 0;
  while (i < v.size()) {
    size_t n = std::min<size_t>(45, v.size() - i);
    while (i + n < v.size() && (static_cast<unsigned char>(v[i + n]) & 0xC0) == 0x80) --n;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(v.substr(i, n)) + "?=";
    i += n;
  }
  return out;
}

// A display name as an RFC 5322 quoted string (or encoded words).
std::string DisplayName(const std::string& raw) {
  std::string v = HeaderText(raw, TextCharset::kUtf8, 120);
  if (!Ascii(v)) return HeaderValue(v);
  std::string q = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

std::string Html(const std::string& s) { return HtmlEscape(s); }

std::string Duration(int64_t ms) {
  int64_t m = ms / 60000;
  if (m < 60) return std::to_string(m) + " min";
  if (m < 48 * 60) return std::to_string(m / 60) + " h " + std::to_string(m % 60) + " min";
  return std::to_string(m / 1440) + " days " + std::to_string((m % 1440) / 60) + " h";
}

std::string RfcDate(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// The facts every channel states, as (label, value) lines.
std::vector<std::pair<std::string, std::string>> Facts(const AlertEvent& e) {
  std::vector<std::pair<std::string, std::string>> f;
  if (e.kind == AlertKind::kTest) {
    f.push_back({"Sent", IsoTime(e.at_ms)});
    return f;
  }
  f.push_back({"Domain", e.domain});
  f.push_back({"Unreachable since", IsoTime(e.since_ms)});
  if (e.kind == AlertKind::kUp) {
    f.push_back({"Reachable again", IsoTime(e.at_ms)});
    f.push_back({"Outage", Duration(e.outage_ms)});
    f.push_back({"Queued messages delivered", std::to_string(e.delivered)});
  } else {
    f.push_back({"Messages waiting in the queue", std::to_string(e.queue_messages)});
    if (e.oldest_ms) f.push_back({"Oldest queued message", IsoTime(e.oldest_ms)});
    if (!e.error.empty()) f.push_back({"Last error", e.error});
  }
  return f;
}

std::string Lead(const AlertEvent& e, const Brand& b) {
  switch (e.kind) {
    case AlertKind::kDown:
      return "The mail server of " + e.domain + " has not been reachable since " +
             IsoTime(e.since_ms) + ". " + b.product_name +
             " keeps its incoming mail safe in the queue and delivers it as soon as the server "
             "answers again.";
    case AlertKind::kStillDown:
      return "The mail server of " + e.domain + " is still unreachable (" +
             Duration(e.at_ms - e.since_ms) +
             "). Incoming mail is kept in the queue for up to 30 days.";
    case AlertKind::kUp:
      return "The mail server of " + e.domain + " is reachable again after " +
             Duration(e.outage_ms) + "; " + std::to_string(e.delivered) +
             " queued messages have been delivered.";
    case AlertKind::kTest:
      return "This is a test alert from " + b.product_name +
             ". If you can read it, alerts reach you on this channel.";
  }
  return "";
}

std::string TextPart(const AlertEvent& e, const Brand& b) {
  std::string t = Lead(e, b) + "\r\n\r\n";
  for (const auto& [k, v] : Facts(e)) t += k + ": " + v + "\r\n";
  t += "\r\n-- \r\n" + b.product_name + "\r\n";
  if (!b.support_email.empty()) t += "Support: " + b.support_email + "\r\n";
  return json_text::ValidUtf8(t);
}

std::string HtmlPart(const AlertEvent& e, const Brand& b) {
  std::string h = "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">";
  if (!b.logo_url.empty())
    h += "<p><img src=\"" + Html(b.logo_url) + "\" alt=\"" + Html(b.product_name) +
         "\" style=\"max-height:48px\"></p>";
  h += "<h2>" + Html(EmailSubject(e, b)) + "</h2><p>" + Html(Lead(e, b)) + "</p><table>";
  for (const auto& [k, v] : Facts(e))
    h += "<tr><th align=\"left\">" + Html(k) + "</th><td>" + Html(v) + "</td></tr>";
  h += "</table><hr><p>" + Html(b.product_name);
  if (!b.support_email.empty())
    h += " &middot; <a href=\"mailto:" + Html(b.support_email) + "\">" + Html(b.support_email) +
         "</a>";
  return h + "</p></body></html>";
}

}  // namespace

Brand BrandFor(const control::Reseller* r, const config::AlertBrand& op,
               const std::string& hostname) {
  Brand b{op.product_name, op.from, op.from_name, op.support_email, op.logo_url};
  if (r) {
    // A reseller's alerts never carry the operator's brand: its own or neutral defaults.
    const auto& rb = r->branding;
    b.product_name = !rb.product_name.empty() ? rb.product_name : r->name;
    b.from = rb.alert_from;
    b.from_name = !rb.alert_from_name.empty() ? rb.alert_from_name : b.product_name;
    b.support_email = rb.support_email;
    b.logo_url = rb.logo_url;
  }
  if (b.from.empty()) b.from = "alerts@" + hostname;
  if (b.from_name.empty()) b.from_name = b.product_name;
  return b;
}

std::string EmailSubject(const AlertEvent& e, const Brand& b) {
  std::string p = "[" + b.product_name + "] ";
  switch (e.kind) {
    case AlertKind::kDown:
      return p + e.domain + ": mail server unreachable, mail is queued";
    case AlertKind::kStillDown:
      return p + e.domain + ": mail server still unreachable";
    case AlertKind::kUp:
      return p + e.domain + ": mail server reachable again";
    case AlertKind::kTest:
      return p + "Test alert";
  }
  return p;
}

std::string EmailMessage(const AlertEvent& e, const Brand& b, const std::string& to,
                         const std::string& hostname, int64_t now_ms) {
  std::string boundary = "=_sw_" + Base64(e.id).substr(0, 24) + "_alt";
  for (char& c : boundary)
    if (c == '+' || c == '/') c = '_';
  std::string m;
  m += "From: " + DisplayName(b.from_name) + " <" + HeaderText(b.from, TextCharset::kAscii) +
       ">\r\n";
  m += "To: <" + HeaderText(to, TextCharset::kUtf8) + ">\r\n";
  m += "Subject: " + HeaderValue(EmailSubject(e, b)) + "\r\n";
  m += "Date: " + RfcDate(now_ms) + "\r\n";
  // One Message-ID per event and recipient: a resend after a crash is recognisably the same.
  m += "Message-ID: <alert." + Base64(e.id + "|" + to).substr(0, 40) + "@" + hostname + ">\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "X-SpamWeeder-Event: " + std::string(KindName(e.kind)) + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  m += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: base64\r\n\r\n" + Base64Lines(TextPart(e, b));
  m += "--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: base64\r\n\r\n" + Base64Lines(HtmlPart(e, b));
  m += "--" + boundary + "--\r\n";
  return m;
}

std::string SmsText(const AlertEvent& e, const Brand& b) {
  std::string t = b.product_name + ": ";
  switch (e.kind) {
    case AlertKind::kDown:
      t += e.domain + " mail server DOWN since " + IsoTime(e.since_ms) + ". Mail is queued (" +
           std::to_string(e.queue_messages) + " msgs).";
      break;
    case AlertKind::kStillDown:
      t += e.domain + " mail server still DOWN (" + Duration(e.at_ms - e.since_ms) + ").";
      break;
    case AlertKind::kUp:
      t += e.domain + " mail server UP after " + Duration(e.outage_ms) + ", " +
           std::to_string(e.delivered) + " queued msgs delivered.";
      break;
    case AlertKind::kTest:
      t += "test alert.";
      break;
  }
  if (!b.support_email.empty()) t += " " + b.support_email;
  t = HeaderText(t, TextCharset::kUtf8, 320);
  return t;
}

std::string WebhookBody(const AlertEvent& e, const Brand& b) {
  json::object o{
      {"id", e.id},
      {"event", KindName(e.kind)},
      {"domain", e.domain},
      {"customer", e.customer},
      {"at", IsoTime(e.at_ms)},
      {"since", IsoTime(e.since_ms)},
      {"error", e.error},
      {"queue",
       {{"messages", e.queue_messages},
        {"oldest", e.oldest_ms ? json::value(IsoTime(e.oldest_ms)) : json::value(nullptr)}}},
      {"product", b.product_name}};
  if (e.kind == AlertKind::kUp) {
    o["outage_seconds"] = e.outage_ms / 1000;
    o["delivered"] = e.delivered;
  }
  if (e.kind == AlertKind::kStillDown) o["repeat"] = e.repeat;
  return json_text::Serialize(o);
}

std::string Signature(const std::string& secret, const std::string& body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), md, &n);
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned i = 0; i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

}  // namespace sw::alerts
