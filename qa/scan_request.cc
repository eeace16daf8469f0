// Owns the ScanRequest the live gateway would build for a corpus message (envelope, our
// Received header, CRLF body). Pure functions; nothing here fails.
#include "qa/scan_request.h"

#include <strings.h>

#include <cstdio>
#include <ctime>

#include "common/received_header.h"

namespace sw::qa {

namespace {

// The unfolded value of the first `name` header field; nullopt-like empty + false when absent.
bool HeaderValue(std::string_view m, std::string_view name, std::string* value) {
  size_t pos = 0;
  while (pos < m.size()) {
    size_t nl = m.find('\n', pos);
    size_t end = nl == std::string_view::npos ? m.size() : nl;
    std::string_view line = m.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return false;  // end of the header section
    if (line.size() > name.size() && line[name.size()] == ':' &&
        strncasecmp(line.data(), name.data(), name.size()) == 0) {
      std::string v(line.substr(name.size() + 1));
      size_t next = end + 1;
      while (next < m.size() && (m[next] == ' ' || m[next] == '\t')) {
        size_t e = m.find('\n', next);
        if (e == std::string_view::npos) e = m.size();
        std::string_view cont = m.substr(next, e - next);
        if (!cont.empty() && cont.back() == '\r') cont.remove_suffix(1);
        v += " ";
        v += cont;
        next = e + 1;
      }
      *value = std::move(v);
      return true;
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return false;
}

std::string Trim(std::string_view s) {
  size_t a = s.find_first_not_of(" \t");
  if (a == std::string_view::npos) return "";
  size_t b = s.find_last_not_of(" \t");
  return std::string(s.substr(a, b - a + 1));
}

// "Name <a@b>" -> "a@b"; "a@b (c)" -> "a@b"; "<>" -> "" with `null` set.
std::string AddressOf(const std::string& value, bool* null) {
  *null = false;
  size_t lt = value.find('<');
  if (lt != std::string::npos) {
    size_t gt = value.find('>', lt);
    if (gt != std::string::npos) {
      std::string a = Trim(std::string_view(value).substr(lt + 1, gt - lt - 1));
      if (a.empty()) *null = true;
      return a.find('@') != std::string::npos ? a : "";
    }
  }
  // The first word holding '@'.
  size_t at = value.find('@');
  if (at == std::string::npos) return "";
  auto stop = [](char c) {
    return c == ' ' || c == '\t' || c == ',' || c == ';' || c == '(' || c == ')' || c == '"';
  };
  size_t a = at, b = at;
  while (a > 0 && !stop(value[a - 1])) --a;
  while (b < value.size() && !stop(value[b])) ++b;
  return value.substr(a, b - a);
}

bool Printable(const std::string& s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return false;
  }
  return !s.empty() && s.size() <= 254;
}

std::string Rfc5322Date() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

}  // namespace

std::string SenderOf(std::string_view message, const std::string& fallback) {
  std::string v;
  bool null = false;
  if (HeaderValue(message, "Return-Path", &v)) {
    std::string a = AddressOf(v, &null);
    if (null) return "";
    if (Printable(a)) return a;
  }
  if (HeaderValue(message, "From", &v)) {
    std::string a = AddressOf(v, &null);
    if (Printable(a)) return a;
  }
  return fallback;
}

std::string NormalizeCrlf(std::string_view m) {
  std::string out;
  out.reserve(m.size() + m.size() / 32 + 2);
  for (size_t i = 0; i < m.size(); ++i) {
    char c = m[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < m.size() && m[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out.push_back(c);
    }
  }
  if (!out.empty() && (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0))
    out += "\r\n";
  return out;
}

size_t NormalizedSize(std::string_view m) {
  size_t n = 0;
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\r') {
      n += 2;
      if (i + 1 < m.size() && m[i + 1] == '\n') ++i;
    } else if (m[i] == '\n') {
      n += 2;
    } else {
      ++n;
    }
  }
  char last = m.empty() ? '\0' : m.back();
  if (!m.empty() && last != '\n' && last != '\r') n += 2;
  return n;
}

std::string ReceivedHeader(const std::string& helo, const std::string& ip,
                           const std::string& hostname, const std::string& id,
                           const std::string& recipient) {
  std::string date = Rfc5322Date();
  ReceivedFields f;
  f.helo = helo;
  f.client_ip = ip;
  f.hostname = hostname;
  f.protocol = "ESMTP";
  f.id = id;
  f.recipient = recipient;
  f.date = date;
  return sw::ReceivedHeader(f);
}

std::string ScanId(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0A%014llX", static_cast<unsigned long long>(n));
  return buf;
}

std::string FirstFilteringDomain(const config::Config& cfg) {
  for (const auto& [name, d] : cfg.domains)
    if (d.filtering) return name;
  return "";
}

filters::ScanRequest BuildScanRequest(std::string_view message, uint64_t n, const ScanEnvelope& env,
                                      std::shared_ptr<const config::Config> config) {
  filters::ScanRequest req;
  req.id = ScanId(n);
  req.sender = SenderOf(message, env.default_sender);
  req.recipients = {env.recipient};
  req.client_ip = env.client_ip;
  req.helo = env.helo;
  req.hostname = config->server.hostname;
  auto body = std::make_shared<std::string>(
      ReceivedHeader(env.helo, env.client_ip, req.hostname, req.id, env.recipient));
  *body += NormalizeCrlf(message);
  req.body = std::move(body);
  req.config = std::move(config);
  return req;
}

}  // namespace sw::qa
