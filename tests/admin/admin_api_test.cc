// Tests the admin API in process against a real RelayQueue (RocksDB in a temp dir) whose only
// domain is down: auth, routing errors, listing and paging, show, actions, summary, metrics.
// Fails by gtest assertion; coroutines are run to completion with a deadline.
#include "admin/admin_api.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <optional>

#include "queue/rocksdb_queue_store.h"

namespace sw::admin {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

// A domain whose servers never answer.
class DownDestination : public routing::Destination {
 public:
  asio::awaitable<routing::DeliveryResult> Deliver(const routing::OutboundMessage&) override {
    routing::DeliveryResult r;
    r.error = "test: destination down";
    co_return r;
  }
  asio::awaitable<routing::ProbeResult> Probe() override {
    routing::ProbeResult r;
    r.error = "test: still down";
    co_return r;
  }
  void Close() override {}
};

template <typename T>
T RunToCompletion(asio::io_context& io, asio::awaitable<T> aw) {
  std::optional<T> out;
  asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
    if (!e) out = std::move(v);
  });
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!out && std::chrono::steady_clock::now() < deadline) io.run_one_for(50ms);
  EXPECT_TRUE(out) << "coroutine did not finish";
  return out ? std::move(*out) : T{};
}

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw-admin-api-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Open("api-test-token");
  }
  void TearDown() override {
    api_.reset();
    if (queue_) queue_->Stop();
    queue_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen(const std::string& token) {
    api_.reset();
    queue_->Stop();
    queue_.reset();
    store_.reset();
    Open(token);
  }
  void Open(const std::string& token) {
    std::string yaml = "queue:\n  path: \"" + dir_ +
                       "/queue\"\n  retry_interval: 1h\n"
                       "delivery:\n  probe_interval: 1h\n"
                       "admin:\n  listen: 127.0.0.1:0\n" +
                       (token.empty() ? "" : "  token: " + token + "\n") +
                       "domains:\n  example.com:\n    destinations: [\"[127.0.0.1]:9\"]\n"
                       "  other.test:\n    destinations: [\"[127.0.0.1]:9\"]\n";
    config_ = std::make_shared<const config::Config>(config::LoadConfigFromString(yaml, "t"));
    Status st;
    store_ = queue::RocksDbQueueStore::Open(config_->queue.path, &st);
    ASSERT_TRUE(store_) << st.message();
    queue_ = std::make_unique<queue::RelayQueue>(
        io_, *store_, config_,
        [](const config::DomainConfig&) { return std::make_unique<DownDestination>(); });
    ASSERT_TRUE(queue_->Load().ok());
    api_ = std::make_unique<AdminApi>(
        *queue_, [this] { return config_; }, nullptr, registry_);
  }

  std::string Accept(const std::string& rcpt, const std::string& subject) {
    queue::Envelope env;
    env.sender = "sender@client.test";
    env.arrival_ms = queue::NowMs();
    env.client_ip = "192.0.2.7";
    env.helo = "client.test";
    queue::RecipientState r;
    r.address = rcpt;
    r.domain = rcpt.substr(rcpt.find('@') + 1);
    env.recipients.push_back(r);
    auto body = std::make_shared<const std::string>(
        "Received: from client.test\r\n\tby mx.test; Fri, 27 Nov 2026 09:00:00 +0000\r\n"
        "Subject: " +
        subject + "\r\nFrom: <sender@client.test>\r\n\r\nbody\r\n");
    std::string id;
    Status st = RunToCompletion(io_, queue_->Accept(env, body, &id));
    EXPECT_TRUE(st.ok()) << st.message();
    // Let the first (failing) delivery attempt run.
    RunUntil([&] { return !Find(id) || Find(id)->attempts > 0; });
    return id;
  }

  std::optional<queue::Envelope> Find(const std::string& id) {
    return RunToCompletion(io_, queue_->Find(id));
  }

  // Runs ready handlers one at a time (bounded: a busy loop cannot hang the test) until
  // `done` or 5 s.
  template <typename Pred>
  bool RunUntil(Pred done, std::chrono::milliseconds limit = 5s) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      io_.run_one_for(10ms);
    }
    return true;
  }
  // Runs the io_context for `d` (handlers one at a time), returning how many ran.
  size_t RunFor(std::chrono::milliseconds d) {
    size_t n = 0;
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) n += io_.run_one_for(5ms);
    return n;
  }

  HttpResponse Call(const std::string& method, const std::string& target,
                    const std::string& auth = "Bearer api-test-token") {
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.authorization = auth;
    return RunToCompletion(io_, api_->Handle(req));
  }
  json::object Ok(const std::string& method, const std::string& target) {
    HttpResponse r = Call(method, target);
    EXPECT_EQ(r.status, 200u) << method << " " << target << ": " << r.body;
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    EXPECT_FALSE(ec) << r.body;
    return v.is_object() ? v.as_object() : json::object{};
  }
  static std::string Error(const HttpResponse& r) {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("error")) return "<no error field>";
    return std::string(v.as_object().at("error").as_string());
  }

  std::string dir_;
  asio::io_context io_;
  metrics::Registry registry_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<queue::RocksDbQueueStore> store_;
  std::unique_ptr<queue::RelayQueue> queue_;
  std::unique_ptr<AdminApi> api_;
};

TEST_F(AdminApiTest, EveryApiCallNeedsTheToken) {
  std::string id = Accept("u@example.com", "auth");
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"GET", "/api/v1/queue"},
      {"GET", "/api/v1/queue/summary"},
      {"GET", "/api/v1/queue/" + id},
      {"DELETE", "/api/v1/queue/" + id},
      {"POST", "/api/v1/queue/" + id + "/flush"},
      {"POST", "/api/v1/queue/" + id + "/hold"},
      {"POST", "/api/v1/queue/" + id + "/release"},
      {"POST", "/api/v1/queue/" + id + "/bounce"},
      {"POST", "/api/v1/domains/example.com/flush"},
      {"POST", "/api/v1/domains/example.com/hold"},
      {"POST", "/api/v1/domains/example.com/release"},
      {"GET", "/api/v1/nothing-here"},
      {"PUT", "/api/v1/queue"}};
  for (const auto& [method, target] : calls) {
    for (const std::string auth : {"", "Bearer wrong", "Bearer api-test-token2",
                                   "Basic YXBpLXRlc3QtdG9rZW46", "api-test-token"}) {
      HttpResponse r = Call(method, target, auth);
      EXPECT_EQ(r.status, 401u) << method << " " << target << " with [" << auth << "]";
      EXPECT_NE(Error(r), "<no error field>");
      bool challenge = false;
      for (const auto& [k, v] : r.headers)
        if (k == "WWW-Authenticate" && v.rfind("Bearer", 0) == 0) challenge = true;
      EXPECT_TRUE(challenge);
    }
  }
  EXPECT_TRUE(Find(id).has_value()) << "nothing was done without the token";
  EXPECT_FALSE(Find(id)->held);
}

TEST_F(AdminApiTest, HealthzAndMetricsAreOpen) {
  HttpResponse h = Call("GET", "/healthz", "");
  EXPECT_EQ(h.status, 200u);
  EXPECT_NE(h.body.find("\"status\":\"ok\""), std::string::npos);
  HttpResponse m = Call("GET", "/metrics", "");
  EXPECT_EQ(m.status, 200u);
  EXPECT_EQ(m.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_EQ(Call("POST", "/healthz", "").status, 405u);
}

TEST_F(AdminApiTest, PlaceholderTokenDisablesTheApi) {
  Reopen("");
  HttpResponse r = Call("GET", "/api/v1/queue", "Bearer CHANGE-ME");
  EXPECT_EQ(r.status, 403u) << r.body;
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200u);
}

TEST_F(AdminApiTest, RoutingErrors) {
  HttpResponse r = Call("GET", "/api/v1/nothing");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(Error(r), "no such endpoint");
  EXPECT_EQ(Call("GET", "/nothing", "").status, 404u);
  r = Call("POST", "/api/v1/queue");
  EXPECT_EQ(r.status, 405u);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Allow", "GET"}));
  EXPECT_EQ(Call("GET", "/api/v1/queue/0123456789ABCDEF/hold").status, 405u);
  EXPECT_EQ(Call("GET", "/api/v1/queue/%zz").status, 400u);
  EXPECT_EQ(Call("GET", "/api/v1/queue/not-an-id").status, 400u);
  EXPECT_EQ(Call("POST", "/api/v1/queue/xyz/hold").status, 400u);
  r = Call("GET", "/api/v1/queue/0123456789ABCDEF");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(Call("DELETE", "/api/v1/queue/0123456789ABCDEF").status, 404u);
  EXPECT_EQ(Call("POST", "/api/v1/queue/0123456789ABCDEF/flush").status, 404u);
  EXPECT_EQ(Call("POST", "/api/v1/domains/unknown.test/hold").status, 404u);
  EXPECT_EQ(Call("GET", "/api/v1/queue?limit=0").status, 400u);
  EXPECT_EQ(Call("GET", "/api/v1/queue?limit=-1").status, 400u);
  EXPECT_EQ(Call("GET", "/api/v1/queue?limit=ten").status, 400u);
  EXPECT_EQ(Call("GET", "/api/v1/queue?limit=").status, 400u);
  EXPECT_EQ(Call("GET", "/api/v1/queue?after=zzz").status, 400u);
}

TEST_F(AdminApiTest, ListPaginatesInArrivalOrderAndFiltersByDomain) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Accept("u" + std::to_string(i) + "@example.com", "m"));
  std::string other = Accept("x@other.test", "o");

  auto all = Ok("GET", "/api/v1/queue");
  ASSERT_EQ(all["messages"].as_array().size(), 6u);
  EXPECT_TRUE(all["next"].is_null());

  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  for (;;) {
    auto page = Ok("GET", "/api/v1/queue?domain=EXAMPLE.com&limit=2" +
                              (after.empty() ? "" : "&after=" + after));
    ++pages;
    auto& msgs = page["messages"].as_array();
    EXPECT_LE(msgs.size(), 2u);
    for (auto& m : msgs) seen.push_back(std::string(m.as_object().at("id").as_string()));
    if (page["next"].is_null()) break;
    after = std::string(page["next"].as_string());
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(pages, 3);

  // limit over the maximum is clamped, not refused; lower-case IDs are accepted for `after`.
  std::string lower = ids[3];
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  auto tail = Ok("GET", "/api/v1/queue?limit=5000&after=" + lower);
  ASSERT_EQ(tail["messages"].as_array().size(), 2u);
  EXPECT_EQ(tail["messages"].as_array()[1].as_object().at("id").as_string(), other);

  auto one = all["messages"].as_array()[0].as_object();
  EXPECT_EQ(one["id"].as_string(), ids[0]);
  EXPECT_EQ(one["sender"].as_string(), "sender@client.test");
  EXPECT_GT(one["size"].as_int64(), 0);
  EXPECT_EQ(std::string(one["arrival"].as_string()).size(), 20u);  // 2026-11-27T19:56:07Z
  EXPECT_EQ(one["attempts"].as_int64(), 1);
  EXPECT_NE(one["last_error"].as_string(), "");
  EXPECT_FALSE(one["held"].as_bool());
  EXPECT_TRUE(one["next_attempt"].is_string() || one["next_attempt"].is_null());
  auto rcpt = one["recipients"].as_array()[0].as_object();
  EXPECT_EQ(rcpt["address"].as_string(), "u0@example.com");
  EXPECT_EQ(rcpt["state"].as_string(), "pending");
  EXPECT_TRUE(rcpt.contains("last_reply"));
}

TEST_F(AdminApiTest, ShowHasEnvelopeAndHeaders) {
  std::string id = Accept("u@example.com",
                          "Gr\xc3\xbc\xc3\x9f"
                          "e");
  auto doc = Ok("GET", "/api/v1/queue/" + id);
  auto& m = doc["message"].as_object();
  EXPECT_EQ(m.at("id").as_string(), id);
  EXPECT_EQ(m.at("client_ip").as_string(), "192.0.2.7");
  EXPECT_EQ(m.at("helo").as_string(), "client.test");
  auto& headers = doc["headers"].as_array();
  ASSERT_EQ(headers.size(), 3u) << json::serialize(doc);
  EXPECT_EQ(headers[0].as_array()[0].as_string(), "Received");
  EXPECT_EQ(headers[0].as_array()[1].as_string(),
            "from client.test\tby mx.test; Fri, 27 Nov 2026 09:00:00 +0000");
  EXPECT_EQ(headers[1].as_array()[0].as_string(), "Subject");
  EXPECT_EQ(headers[1].as_array()[1].as_string(),
            "Gr\xc3\xbc\xc3\x9f"
            "e");
  EXPECT_FALSE(doc.contains("headers_error"));
}

TEST_F(AdminApiTest, HoldReleaseFlushDelete) {
  std::string id = Accept("u@example.com", "acts");
  auto r = Ok("POST", "/api/v1/queue/" + id + "/hold");
  EXPECT_EQ(r["result"].as_string(), "ok");
  EXPECT_TRUE(Find(id)->held);
  EXPECT_TRUE(
      Ok("GET", "/api/v1/queue")["messages"].as_array()[0].as_object().at("held").as_bool());
  HttpResponse busy = Call("POST", "/api/v1/queue/" + id + "/flush");
  EXPECT_EQ(busy.status, 409u) << "a held message is not flushed: " << busy.body;
  Ok("POST", "/api/v1/queue/" + id + "/release");
  EXPECT_FALSE(Find(id)->held);
  Ok("POST", "/api/v1/queue/" + id + "/flush");
  // The flushed attempt fails again (the destination is down); delete waits for it to end.
  ASSERT_TRUE(RunUntil([&] { return Find(id)->attempts >= 2; }));
  RunUntil([&] { return Call("DELETE", "/api/v1/queue/" + id).status != 409; });
  EXPECT_FALSE(Find(id).has_value()) << "DELETE did not remove it";
  EXPECT_EQ(Call("GET", "/api/v1/queue/" + id).status, 404u);
  EXPECT_EQ(Call("DELETE", "/api/v1/queue/" + id).status, 404u);
}

// A flush marks a down domain up; when the flushed attempt fails again the domain goes down
// and a second probe loop starts while the first still waits on the same timer. The two must
// not re-arm each other's timer forever (probe_interval is 1h here: no probe is due at all).
TEST_F(AdminApiTest, FlushWhileDownDoesNotSpinTheProber) {
  std::string id = Accept("u@example.com", "spin");
  Ok("POST", "/api/v1/queue/" + id + "/flush");
  ASSERT_TRUE(RunUntil([&] { return Find(id)->attempts >= 2; }));
  size_t handlers = RunFor(300ms);
  EXPECT_LT(handlers, 100u) << "the io_context kept running handlers: a probe loop spins";
}

TEST_F(AdminApiTest, DomainActionsCountMessages) {
  std::string a = Accept("a@example.com", "a");
  std::string b = Accept("b@example.com", "b");
  std::string c = Accept("c@other.test", "c");
  auto r = Ok("POST", "/api/v1/domains/example.com/hold");
  EXPECT_EQ(r["messages"].as_int64(), 2);
  EXPECT_EQ(r["domain"].as_string(), "example.com");
  EXPECT_TRUE(Find(a)->held);
  EXPECT_TRUE(Find(b)->held);
  EXPECT_FALSE(Find(c)->held);
  EXPECT_EQ(Ok("POST", "/api/v1/domains/Example.Com/release")["messages"].as_int64(), 2);
  EXPECT_FALSE(Find(a)->held);
  EXPECT_EQ(Ok("POST", "/api/v1/domains/other.test/hold")["messages"].as_int64(), 1);
}

// Delete and bounce of a domain are range actions too: only that domain's messages go.
TEST_F(AdminApiTest, DomainDeleteAndBounceRemoveOnlyThatDomainsMessages) {
  std::string a = Accept("a@example.com", "a");
  std::string b = Accept("b@example.com", "b");
  std::string c = Accept("c@other.test", "c");
  EXPECT_EQ(Ok("POST", "/api/v1/domains/example.com/delete")["messages"].as_int64(), 2);
  EXPECT_FALSE(Find(a).has_value());
  EXPECT_FALSE(Find(b).has_value());
  EXPECT_TRUE(Find(c).has_value());
  EXPECT_EQ(Ok("POST", "/api/v1/domains/other.test/bounce")["messages"].as_int64(), 1);
  EXPECT_TRUE(RunUntil([&] { return !Find(c).has_value(); })) << "bounced message still queued";
  EXPECT_EQ(queue_->stats().bounced, 1u);
  EXPECT_EQ(queue_->stats().dsn_sent, 1u);
}

TEST_F(AdminApiTest, SummaryPerDomain) {
  Accept("a@example.com", "a");
  Accept("b@example.com", "b");
  std::string held = Accept("c@other.test", "c");
  Ok("POST", "/api/v1/queue/" + held + "/hold");
  auto doc = Ok("GET", "/api/v1/queue/summary");
  EXPECT_EQ(doc["total"].as_object().at("messages").as_int64(), 3);
  std::map<std::string, json::object> by;
  for (auto& d : doc["domains"].as_array())
    by[std::string(d.as_object().at("domain").as_string())] = d.as_object();
  ASSERT_TRUE(by.count("example.com"));
  ASSERT_TRUE(by.count("other.test"));
  auto& ex = by["example.com"];
  EXPECT_EQ(ex["messages"].as_int64(), 2);
  EXPECT_GT(ex["bytes"].as_int64(), 0);
  EXPECT_FALSE(ex["up"].as_bool()) << "its destination never answers";
  EXPECT_TRUE(ex["oldest"].is_string());
  EXPECT_EQ(ex["age_buckets"].as_object().at("5m").as_int64(), 2);
  EXPECT_EQ(ex["age_buckets"].as_object().at("older").as_int64(), 0);
  EXPECT_EQ(by["other.test"]["held"].as_int64(), 1);
}

TEST_F(AdminApiTest, MetricsShowQueueDepthAndCounters) {
  Accept("a@example.com", "a");
  Accept("b@example.com", "b");
  std::string text = Call("GET", "/metrics", "").body;
  EXPECT_NE(text.find("\nspamweeder_accepted_total 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nspamweeder_queue_messages{domain=\"example.com\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\nspamweeder_queue_messages{domain=\"other.test\"} 0\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\nspamweeder_domain_up{domain=\"example.com\"} 0\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("spamweeder_queue_oldest_seconds{domain=\"example.com\"} "),
            std::string::npos);
  for (const char* name : {"spamweeder_delivered_total 0", "spamweeder_deferred_total",
                           "spamweeder_bounced_total 0", "spamweeder_expired_total 0"})
    EXPECT_NE(text.find(name), std::string::npos) << name;
  // The callbacks go with the API object.
  api_.reset();
  EXPECT_EQ(registry_.Render().find("spamweeder_queue_messages"), std::string::npos);
}

}  // namespace
}  // namespace sw::admin
