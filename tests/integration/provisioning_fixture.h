// Owns the provisioning API tests' fixture: a gateway with its admin API, JSON helpers, and
// tenant builders (resellers, customers, domains, tokens). Fails by gtest expectations.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "admin/http_client.h"
#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/mime_mail.h"
#include "tests/integration/harness/scanners.h"
#include "tests/integration/harness/smtp_client.h"
#include "tests/integration/harness/test_smtp_server.h"

namespace sw::it {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using Headers = std::vector<std::pair<std::string, std::string>>;

inline const std::string kOperator = GatewayProcess::kAdminToken;

inline std::string Dest(uint16_t port) { return "[127.0.0.1]:" + std::to_string(port); }

// The JSON value of `text`; null when it does not parse.
inline json::value Parse(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value() : v;
}

// o[key] as a string; "" when missing or not a string.
inline std::string Str(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

// o[key] as an integer; -1 when missing or not a number.
inline int64_t Int(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (!v) return -1;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  return -1;
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

inline std::string Describe(const admin::HttpResult& r) {
  if (!r.ok) return "transport error: " + r.error;
  return std::to_string(r.status) + " " + r.body.substr(0, 2000);
}

inline json::object DomainBody(const std::string& name, const std::string& customer,
                               const std::vector<std::string>& destinations) {
  json::object o;
  o["name"] = name;
  if (!customer.empty()) o["customer"] = customer;
  json::array d;
  for (const auto& x : destinations) d.emplace_back(x);
  o["destinations"] = std::move(d);
  return o;
}

// One request over a raw connection: the header first, then (unless an answer came within
// 1 s) the body; the raw response up to the peer's close ("" when none). For answers a server
// gives before reading a body, which HttpClient loses when its write fails.
inline std::string RawHttp(uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(port);
  std::string out;
  auto read_some = [&](Millis timeout) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    out.append(buf, static_cast<size_t>(n));
    return true;
  };
  auto send_all = [&](const std::string& bytes) {
    for (size_t off = 0; off < bytes.size();) {
      ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  };
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    send_all(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
             kOperator + "\r\nContent-Type: application/json\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n");
    if (!read_some(1s)) send_all(body);
    while (read_some(5s)) {
    }
  }
  close(fd);
  return out;
}

struct TokenInfo {
  std::string id;     // t_...
  std::string token;  // sw_..., shown once
};

class ProvisioningTest : public GatewayTest {
 protected:
  ::testing::AssertionResult Start(GatewayOptions o) {
    auto r = StartGateway(std::move(o));
    if (r && gw_->admin_port() == 0)
      return ::testing::AssertionFailure() << "no `event=listening service=admin` logged";
    return r;
  }
  ::testing::AssertionResult Start() { return Start(DefaultOptions()); }
  std::string SinkDest() const { return Dest(sink_.port()); }

  admin::HttpResult Api(const std::string& token, const std::string& method,
                        const std::string& target, const std::string& body = "",
                        const Headers& headers = {}) {
    admin::HttpClient http("127.0.0.1", gw_->admin_port(), token, 10s);
    return http.Call(method, target, admin::HttpCallOptions{body, headers});
  }
  admin::HttpResult Api(const std::string& token, const std::string& method,
                        const std::string& target, const json::object& body,
                        const Headers& headers = {}) {
    return Api(token, method, target, json::serialize(body), headers);
  }

  // The body of a call that must answer `status`, as an object (ADD_FAILURE otherwise).
  json::object Expect(unsigned status, const admin::HttpResult& r, const std::string& what) {
    EXPECT_TRUE(r.ok) << what << ": " << r.error;
    EXPECT_EQ(r.status, status) << what << ": " << Describe(r);
    json::value v = Parse(r.body);
    return v.is_object() ? v.as_object() : json::object{};
  }

  std::string CreateReseller(const std::string& name, int64_t max_domains = 0) {
    json::object b{{"name", name}, {"plan", json::object{{"max_domains", max_domains}}}};
    auto o = Expect(201, Api(kOperator, "POST", "/api/v1/resellers", b), "create reseller");
    std::string id = Str(o, "id");
    EXPECT_TRUE(id.rfind("r_", 0) == 0) << json::serialize(o);
    return id;
  }
  std::string CreateCustomer(const std::string& name, const std::string& reseller,
                             const std::string& token = kOperator) {
    json::object b{{"name", name}};
    if (!reseller.empty()) b["reseller"] = reseller;
    auto o = Expect(201, Api(token, "POST", "/api/v1/customers", b), "create customer " + name);
    std::string id = Str(o, "id");
    EXPECT_TRUE(id.rfind("c_", 0) == 0) << json::serialize(o);
    return id;
  }
  json::object CreateDomain(const std::string& name, const std::string& customer,
                            const std::vector<std::string>& destinations,
                            const std::string& token = kOperator) {
    auto o =
        Expect(201, Api(token, "POST", "/api/v1/domains", DomainBody(name, customer, destinations)),
               "create domain " + name);
    EXPECT_EQ(Str(o, "name"), name) << json::serialize(o);
    return o;
  }
  TokenInfo CreateToken(const std::string& account, const std::string& role,
                        const std::string& token = kOperator) {
    json::object b{{"account", account}, {"role", role}, {"name", "it-" + role}};
    auto o = Expect(201, Api(token, "POST", "/api/v1/tokens", b), "create token for " + account);
    TokenInfo t{Str(o, "id"), Str(o, "token")};
    EXPECT_TRUE(t.id.rfind("t_", 0) == 0) << json::serialize(o);
    EXPECT_TRUE(std::regex_match(t.token, std::regex("sw_[A-Za-z0-9_-]{43}")))
        << "token text: " << t.token;
    return t;
  }
  // The operator's view of an object (GET must be 200).
  json::value OperatorGet(const std::string& target) {
    admin::HttpResult r = Api(kOperator, "GET", target);
    EXPECT_EQ(r.status, 200u) << target << ": " << Describe(r);
    return Parse(r.body);
  }

  // A fresh session: MAIL, then RCPT TO:<rcpt>; the RCPT reply (nullopt on transport trouble).
  std::optional<Reply> Rcpt(const std::string& rcpt) {
    SmtpClient c;
    if (!OpenSession(c, port())) return std::nullopt;
    auto mail = c.Command("MAIL FROM:<sender@client.test>", 5s);
    if (!mail || mail->code != 250) return mail;
    auto r = c.Command("RCPT TO:<" + rcpt + ">", 5s);
    c.Command("QUIT", 2s);
    return r;
  }
  // Polls Rcpt(rcpt) (a new session each time) until its reply starts with `prefix`; the time
  // it took, or nullopt after `timeout`.
  std::optional<Millis> TimeUntilRcpt(const std::string& rcpt, const std::string& prefix,
                                      Millis timeout) {
    auto t0 = Clock::now();
    bool ok = PollUntil(
        [&] {
          auto r = Rcpt(rcpt);
          return r && r->last().rfind(prefix, 0) == 0;
        },
        timeout);
    if (!ok) return std::nullopt;
    return std::chrono::duration_cast<Millis>(Clock::now() - t0);
  }
  static Envelope Env(const std::string& to) {
    Envelope e;
    e.from = "sender@client.test";
    e.to = {to};
    return e;
  }
  // Sends to `to` (whose destination is down) and waits until the message was deferred.
  std::string SendDeferred(const std::string& to, const std::string& marker) {
    std::string id = SendOk(Env(to), SimpleMessage(marker));
    EXPECT_TRUE(gw_->log().WaitFor(DeferredRe(id), 10s)) << "no deferral for " << id;
    return id;
  }
};

// ---------------------------------------------------------------------------------------------

}  // namespace sw::it
