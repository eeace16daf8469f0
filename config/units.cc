// Owns the unit parsers of the config: durations, sizes, listen addresses and destinations.
// Fails by returning nullopt on any syntax or range error; never throws.
#include <arpa/inet.h>

#include <cctype>
#include <limits>
#include <string_view>

#include "config/config.h"

namespace sw::config {
namespace {

// Parses a non-empty run of decimal digits; rejects signs, spaces and overflow.
std::optional<uint64_t> ParseUnsigned(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// Splits "123unit" into the number and the unit suffix.
std::optional<std::pair<uint64_t, std::string_view>> SplitNumber(std::string_view s) {
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  auto number = ParseUnsigned(s.substr(0, digits));
  if (!number) return std::nullopt;
  return std::make_pair(*number, s.substr(digits));
}

std::optional<uint64_t> Multiply(uint64_t value, uint64_t factor, uint64_t limit) {
  if (factor != 0 && value > limit / factor) return std::nullopt;
  return value * factor;
}

std::optional<uint16_t> ParsePort(std::string_view s) {
  auto port = ParseUnsigned(s);
  if (!port || *port > 65535 || s.size() > 5) return std::nullopt;
  return static_cast<uint16_t>(*port);
}

bool IsIpv4(const std::string& s) {
  in_addr addr;
  return inet_pton(AF_INET, s.c_str(), &addr) == 1;
}

bool IsIpv6(const std::string& s) {
  in6_addr addr;
  return inet_pton(AF_INET6, s.c_str(), &addr) == 1;
}

// A DNS host name: dot-separated labels of letters, digits and inner hyphens.
bool IsHostName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('.', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view label = s.substr(start, end - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    start = end + 1;
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<Duration> ParseDuration(const std::string& s) {
  auto split = SplitNumber(s);
  if (!split) return std::nullopt;
  auto [value, unit] = *split;
  uint64_t factor = 0;
  if (unit == "ms") {
    factor = 1;
  } else if (unit == "s") {
    factor = 1000;
  } else if (unit == "m") {
    factor = 60 * 1000;
  } else if (unit == "h") {
    factor = 60 * 60 * 1000;
  } else if (unit == "d") {
    factor = 24 * 60 * 60 * 1000;
  } else if (unit.empty() && value == 0) {
    return Duration(0);  // a bare 0 needs no unit
  } else {
    return std::nullopt;
  }
  auto ms = Multiply(value, factor, static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  if (!ms) return std::nullopt;
  return Duration(static_cast<Duration::rep>(*ms));
}

std::optional<uint64_t> ParseSize(const std::string& s) {
  auto split = SplitNumber(s);
  if (!split) return std::nullopt;
  auto [value, unit] = *split;
  uint64_t factor = 0;
  if (unit.empty() || unit == "B") {
    factor = 1;
  } else if (unit == "KiB") {
    factor = 1ull << 10;
  } else if (unit == "MiB") {
    factor = 1ull << 20;
  } else if (unit == "GiB") {
    factor = 1ull << 30;
  } else if (unit == "TiB") {
    factor = 1ull << 40;
  } else if (unit == "KB" || unit == "kB") {
    factor = 1000;
  } else if (unit == "MB") {
    factor = 1000 * 1000;
  } else if (unit == "GB") {
    factor = 1000 * 1000 * 1000;
  } else if (unit == "TB") {
    factor = 1000ull * 1000 * 1000 * 1000;
  } else {
    return std::nullopt;
  }
  return Multiply(value, factor, std::numeric_limits<uint64_t>::max());
}

std::optional<ListenAddress> ParseListenAddress(const std::string& s) {
  std::string host;
  std::string_view port;
  std::string_view view(s);
  if (!view.empty() && view.front() == '[') {
    size_t close = view.find(']');
    if (close == std::string_view::npos || close + 1 >= view.size() || view[close + 1] != ':') {
      return std::nullopt;
    }
    host = std::string(view.substr(1, close - 1));
    if (!IsIpv6(host)) return std::nullopt;
    port = view.substr(close + 2);
  } else {
    size_t colon = view.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = std::string(view.substr(0, colon));
    port = view.substr(colon + 1);
    if (host == "*") {
      host = "0.0.0.0";
    } else if (!IsIpv4(host)) {
      return std::nullopt;  // names are not resolved; bare IPv6 needs brackets
    }
  }
  auto number = ParsePort(port);
  if (!number) return std::nullopt;
  return ListenAddress{Lower(host), *number};
}

std::optional<Destination> ParseDestination(const std::string& s) {
  Destination dest;
  std::string_view view(s);
  std::string_view rest;
  if (!view.empty() && view.front() == '[') {
    size_t close = view.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string host(view.substr(1, close - 1));
    if (host.size() > 5 && Lower(host.substr(0, 5)) == "ipv6:") {
      host = host.substr(5);
      if (!IsIpv6(host)) return std::nullopt;
    }
    if (!host.empty() && host.back() == '.') host.pop_back();
    if (!IsIpv6(host) && !IsIpv4(host) && !IsHostName(host)) return std::nullopt;
    dest.host = Lower(host);
    dest.literal = true;
    rest = view.substr(close + 1);
  } else {
    size_t colon = view.find(':');
    std::string host(view.substr(0, colon));
    if (!host.empty() && host.back() == '.') host.pop_back();
    if (!IsHostName(host)) return std::nullopt;  // also rejects unbracketed IPv6
    dest.host = Lower(host);
    rest = colon == std::string_view::npos ? std::string_view() : view.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':') return std::nullopt;
    auto port = ParsePort(rest.substr(1));
    if (!port || *port == 0) return std::nullopt;
    dest.port = *port;
  }
  return dest;
}

std::string ListenAddress::ToString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string Destination::ToString() const {
  if (literal) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace sw::config
