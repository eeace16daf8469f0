// Tests MX resolution: parsing real-format DNS answers, and MxDestination delivering to the
// hosts an MX answer names (a fake resolver, a real scripted SMTP server on loopback).
#include "routing/mx_destination.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>

#include "routing/mx_lookup.h"
#include "routing/mx_resolver.h"
#include "tests/routing/test_servers.h"

namespace sw::routing {
namespace {

namespace asio = boost::asio;

void PutName(std::vector<unsigned char>& p, const std::string& name) {
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    p.push_back(static_cast<unsigned char>(dot - start));
    for (size_t i = start; i < dot; ++i) p.push_back(static_cast<unsigned char>(name[i]));
    start = dot + 1;
  }
  p.push_back(0);
}

// A DNS response for `domain` IN MX with the given (preference, exchange) answers.
std::vector<unsigned char> Response(const std::string& domain,
                                    const std::vector<std::pair<int, std::string>>& answers) {
  std::vector<unsigned char> p = {
      0x12, 0x34, 0x81, 0x80, 0, 1, 0, static_cast<unsigned char>(answers.size()), 0, 0, 0, 0};
  PutName(p, domain);
  p.insert(p.end(), {0, 15, 0, 1});
  for (const auto& [pref, host] : answers) {
    std::vector<unsigned char> rdata = {static_cast<unsigned char>(pref >> 8),
                                        static_cast<unsigned char>(pref & 0xff)};
    PutName(rdata, host);
    p.insert(p.end(),
             {0xC0, 0x0C, 0, 15, 0, 1, 0, 0, 1, 0x2C, static_cast<unsigned char>(rdata.size() >> 8),
              static_cast<unsigned char>(rdata.size() & 0xff)});
    p.insert(p.end(), rdata.begin(), rdata.end());
  }
  return p;
}

TEST(MxLookup, AnswersSortedByPreference) {
  auto p = Response("example.org", {{20, "mx2.example.org"}, {10, "mx1.example.org"}});
  MxAnswer a = ParseMxResponse(p.data(), static_cast<int>(p.size()), "example.org");
  EXPECT_TRUE(a.error.empty()) << a.error;
  EXPECT_EQ(a.hosts, (std::vector<std::string>{"mx1.example.org", "mx2.example.org"}));
  EXPECT_FALSE(a.null_mx);
}

TEST(MxLookup, NullMxIsRecognized) {
  auto p = Response("nomail.example", {{0, ""}});
  MxAnswer a = ParseMxResponse(p.data(), static_cast<int>(p.size()), "nomail.example");
  EXPECT_TRUE(a.null_mx);
}

TEST(MxLookup, NoAnswersMeansImplicitMx) {
  auto p = Response("bare.example", {});
  MxAnswer a = ParseMxResponse(p.data(), static_cast<int>(p.size()), "bare.example");
  EXPECT_EQ(a.hosts, std::vector<std::string>{"bare.example"});
}

TEST(MxLookup, GarbageIsAnError) {
  unsigned char junk[5] = {1, 2, 3, 4, 5};
  EXPECT_FALSE(ParseMxResponse(junk, 5, "x.example").error.empty());
}

class MxDestinationTest : public ::testing::Test {
 protected:
  template <typename T>
  T Run(asio::awaitable<T> aw) {
    std::optional<T> out;
    asio::co_spawn(io_, std::move(aw), [&](std::exception_ptr e, T v) {
      if (e) std::rethrow_exception(e);
      out = std::move(v);
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!out && std::chrono::steady_clock::now() < deadline)
      io_.run_one_for(std::chrono::seconds(1));
    EXPECT_TRUE(out.has_value());
    return out ? std::move(*out) : T{};
  }
  static OutboundMessage Msg() {
    OutboundMessage m;
    m.id = "MXTEST";
    m.sender = "";
    m.recipients = {"alice@sender.example"};
    m.body = std::make_shared<const std::string>("Subject: dsn\r\n\r\nbounce\r\n");
    return m;
  }
  // A resolver on one worker thread answering with `lookup` (each test's goes before io_).
  std::shared_ptr<MxResolver> Resolver(std::function<MxAnswer(const std::string&)> lookup) {
    return std::make_shared<MxResolver>(
        1, 100, [lookup](const std::string& domain, const std::vector<config::ListenAddress>&) {
          return lookup(domain);
        });
  }
  asio::io_context io_{1};
  config::DeliveryConfig delivery_;
};

TEST_F(MxDestinationTest, DeliversToTheHostTheMxAnswerNames) {
  testing::ScriptedServer server(testing::Script{});
  std::atomic<int> lookups = 0;
  auto resolver = Resolver([&](const std::string& domain) {
    ++lookups;
    EXPECT_EQ(domain, "sender.example");
    return MxAnswer{{"127.0.0.1"}, false, ""};
  });
  MxDestination d(io_.get_executor(), "gw.example.net", "sender.example", delivery_, resolver,
                  server.port());
  DeliveryResult r = Run(d.Deliver(Msg()));
  ASSERT_TRUE(r.reached) << r.error;
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].code, 250);
  EXPECT_EQ(server.messages().size(), 1u);
  Run(d.Deliver(Msg()));
  EXPECT_EQ(lookups.load(), 1) << "answer not cached";
  d.Close();
}

TEST_F(MxDestinationTest, NullMxFailsPermanentlyWithoutConnecting) {
  MxDestination d(io_.get_executor(), "gw.example.net", "nomail.example", delivery_,
                  Resolver([](const std::string&) {
                    return MxAnswer{{}, true, ""};
                  }));
  DeliveryResult r = Run(d.Deliver(Msg()));
  ASSERT_TRUE(r.reached);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_TRUE(r.recipients[0].permanent());
}

TEST_F(MxDestinationTest, LookupFailureIsTemporary) {
  MxDestination d(io_.get_executor(), "gw.example.net", "flaky.example", delivery_,
                  Resolver([](const std::string&) {
                    return MxAnswer{{}, false, "SERVFAIL"};
                  }));
  DeliveryResult r = Run(d.Deliver(Msg()));
  EXPECT_FALSE(r.reached);
  EXPECT_NE(r.error.find("SERVFAIL"), std::string::npos);
}

}  // namespace
}  // namespace sw::routing
