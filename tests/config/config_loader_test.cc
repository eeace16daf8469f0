// Tests the YAML config loader: every key, defaults, and `NAME:LINE:COL:` problem reports.
// Fails with a GoogleTest assertion showing the config text's problems.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "tests/config/config_test_util.h"

namespace sw::config {
namespace {

using namespace test_support;  // Load, Problems, kDomain, chrono units

TEST(ConfigLoader, DefaultsMatchSpec) {
  Config c = Load("");
  EXPECT_EQ(c.source, "t.yaml");
  EXPECT_EQ(c.server.hostname, "mx.example.net");
  ASSERT_EQ(c.server.listen.size(), 1u);
  EXPECT_EQ(c.server.listen[0].ToString(), "0.0.0.0:25");
  EXPECT_EQ(c.server.max_message_size, 50u * 1024 * 1024);
  EXPECT_EQ(c.server.max_recipients, 100u);
  EXPECT_EQ(c.server.max_connections, 1000u);
  EXPECT_EQ(c.server.max_connections_per_ip, 20u);
  EXPECT_EQ(c.server.max_errors, 10u);
  EXPECT_EQ(c.server.command_timeout, minutes(5));
  EXPECT_EQ(c.server.data_timeout, minutes(10));
  EXPECT_FALSE(c.server.tls);
  EXPECT_EQ(c.queue.path, "/var/lib/spamweeder/queue");
  EXPECT_EQ(c.queue.retry_interval, minutes(5));
  EXPECT_EQ(c.queue.max_age, hours(24 * 30));
  EXPECT_FALSE(c.queue.delay_warning);
  EXPECT_EQ(c.queue.active_limit, 20000u);
  EXPECT_EQ(c.queue.active_window_per_domain, 1000u);
  EXPECT_EQ(c.delivery.probe_interval, minutes(1));
  EXPECT_EQ(c.delivery.connect_timeout, seconds(30));
  EXPECT_EQ(c.delivery.command_timeout, minutes(5));
  EXPECT_EQ(c.delivery.max_connections_per_destination, 20u);
  EXPECT_EQ(c.delivery.outbound_relay, "");
  EXPECT_EQ(c.delivery.mx_resolver_threads, 2u);
  EXPECT_EQ(c.delivery.mx_cache_entries, 10000u);
  EXPECT_EQ(c.delivery.mx_idle_timeout, minutes(5));
  EXPECT_EQ(c.admin.listen.ToString(), "127.0.0.1:8025");
  EXPECT_EQ(c.admin.token, "CHANGE-ME");
  EXPECT_EQ(c.filters.rspamd.url, "http://127.0.0.1:11333");
  EXPECT_EQ(c.filters.rspamd.timeout, seconds(20));
  EXPECT_EQ(c.filters.rspamd.on_failure, OnFailure::kTempfail);
  EXPECT_EQ(c.filters.clamav.database, "/var/lib/clamav");
  EXPECT_EQ(c.filters.clamav.on_failure, OnFailure::kTempfail);
  EXPECT_EQ(c.log.file, "");
  EXPECT_TRUE(c.domains.empty());
}

TEST(ConfigLoader, SpecExampleLoadsWithTheSameValues) {
  Config c = Load(R"(server:
  hostname: mx.example.net
  listen: ["0.0.0.0:25"]
  max_message_size: 50MiB
  max_recipients: 100
  max_connections: 1000
  max_connections_per_ip: 20
  max_errors: 10
  timeouts: { command: 5m, data: 10m }
queue:
  path: /var/lib/spamweeder/queue
  retry_interval: 5m
  max_age: 30d
  delay_warning: off
delivery:
  probe_interval: 1m
  connect_timeout: 30s
  command_timeout: 5m
  max_connections_per_destination: 20
  outbound_relay: ""
admin:
  listen: 127.0.0.1:8025
  token: CHANGE-ME
filters:
  rspamd: { url: http://127.0.0.1:11333, timeout: 20s, on_failure: tempfail }
  clamav: { database: /var/lib/clamav, on_failure: tempfail }
domains:
  example.com:
    destinations: ["mail.example.com", "[192.0.2.10]:2525"]
    filtering: false
    spam: { tag_score: 6, reject_score: 15, subject_tag: "" }
    virus: reject
    tls: opportunistic
    recipients: []
)");
  Config defaults;
  EXPECT_EQ(c.server.max_message_size, defaults.server.max_message_size);
  EXPECT_EQ(c.queue.max_age, defaults.queue.max_age);
  EXPECT_FALSE(c.queue.delay_warning);
  ASSERT_EQ(c.domains.size(), 1u);
  const DomainConfig& d = c.domains.at("example.com");
  EXPECT_EQ(d.name, "example.com");
  ASSERT_EQ(d.destinations.size(), 2u);
  EXPECT_EQ(d.destinations[0].ToString(), "mail.example.com:25");
  EXPECT_FALSE(d.destinations[0].literal);
  EXPECT_EQ(d.destinations[1].ToString(), "[192.0.2.10]:2525");
  EXPECT_TRUE(d.destinations[1].literal);
  EXPECT_FALSE(d.filtering);
  EXPECT_EQ(d.spam.tag_score, 6);
  EXPECT_EQ(d.spam.reject_score, 15);
  EXPECT_EQ(d.spam.subject_tag, "");
  EXPECT_EQ(d.virus, VirusAction::kReject);
  EXPECT_EQ(d.tls, TlsPolicy::kOpportunistic);
  EXPECT_TRUE(d.recipients.empty());
}

TEST(ConfigLoader, EveryKeyIsRead) {
  std::string token = WriteTemp("token", "  s3cret-token\n\n");
  std::string cert = WriteTemp("cert.pem", "cert");
  std::string key = WriteTemp("key.pem", "key");
  Config c = Load(
      "server:\n  hostname: mx.test.example\n  listen: [\"*:2525\", \"[::1]:0\"]\n"
      "  max_message_size: 10MB\n  max_recipients: 5\n  max_connections: 7\n"
      "  max_connections_per_ip: 3\n  max_errors: 2\n"
      "  timeouts: {command: 30s, data: 2m}\n"
      "  tls: {certificate: " +
      cert + ", key: " + key +
      "}\n"
      "  io_threads: 1\n  min_free_space: 1GiB\n  max_inflight_data: 256MiB\n"
      "  received_product: \"Acme Mail Shield\"\n"
      "queue:\n  path: ./q\n  retry_interval: 10s\n  max_age: 4h\n  delay_warning: 1h\n"
      "  active_limit: 500\n  active_window_per_domain: 50\n"
      "delivery:\n  probe_interval: 5s\n  connect_timeout: 3s\n  command_timeout: 1m\n"
      "  max_connections_per_destination: 2\n  outbound_relay: \"[192.0.2.1]:587\"\n"
      "  idle_timeout: 0\n  mx_resolver_threads: 3\n  mx_cache_entries: 50\n"
      "  mx_idle_timeout: 2s\n"
      "admin:\n  listen: \"[::1]:9000\"\n  token_file: " +
      token +
      "\n"
      "filters:\n  rspamd: {url: \"https://r.example:1\", timeout: 500ms, "
      "on_failure: accept}\n  clamav: {database: ./db, on_failure: accept}\n"
      "log: {file: ./sw.log}\n"
      "domains:\n  Example.ORG.:\n    destinations: [a.example.org]\n"
      "    filtering: true\n    spam: {tag_score: 3.5, reject_score: null, "
      "subject_tag: \"[SPAM]\"}\n    tls: verify\n"
      "    recipients: [Postmaster, Bob@Example.org]\n");
  EXPECT_EQ(c.server.hostname, "mx.test.example");
  ASSERT_EQ(c.server.listen.size(), 2u);
  EXPECT_EQ(c.server.listen[0].ToString(), "0.0.0.0:2525");
  EXPECT_EQ(c.server.listen[1].ToString(), "[::1]:0");
  EXPECT_EQ(c.server.max_message_size, 10000000u);
  EXPECT_EQ(c.server.max_recipients, 5u);
  EXPECT_EQ(c.server.max_connections, 7u);
  EXPECT_EQ(c.server.max_connections_per_ip, 3u);
  EXPECT_EQ(c.server.max_errors, 2u);
  EXPECT_EQ(c.server.command_timeout, seconds(30));
  EXPECT_EQ(c.server.data_timeout, minutes(2));
  ASSERT_TRUE(c.server.tls);
  EXPECT_EQ(c.server.tls->certificate, cert);
  EXPECT_EQ(c.server.tls->key, key);
  EXPECT_EQ(c.server.io_threads, 1u);
  EXPECT_EQ(c.server.min_free_space, 1024u * 1024 * 1024);
  EXPECT_EQ(c.server.max_inflight_data, 256u * 1024 * 1024);
  EXPECT_EQ(c.server.received_product, "Acme Mail Shield");
  EXPECT_EQ(c.queue.path, "./q");
  EXPECT_EQ(c.queue.retry_interval, seconds(10));
  EXPECT_EQ(c.queue.max_age, hours(4));
  EXPECT_EQ(c.queue.delay_warning, hours(1));
  EXPECT_EQ(c.queue.active_limit, 500u);
  EXPECT_EQ(c.queue.active_window_per_domain, 50u);
  EXPECT_EQ(c.delivery.probe_interval, seconds(5));
  EXPECT_EQ(c.delivery.connect_timeout, seconds(3));
  EXPECT_EQ(c.delivery.command_timeout, minutes(1));
  EXPECT_EQ(c.delivery.max_connections_per_destination, 2u);
  EXPECT_EQ(c.delivery.outbound_relay, "[192.0.2.1]:587");
  EXPECT_EQ(c.delivery.idle_timeout, milliseconds(0));
  EXPECT_EQ(c.delivery.mx_resolver_threads, 3u);
  EXPECT_EQ(c.delivery.mx_cache_entries, 50u);
  EXPECT_EQ(c.delivery.mx_idle_timeout, seconds(2));
  EXPECT_EQ(c.admin.listen.ToString(), "[::1]:9000");
  EXPECT_EQ(c.admin.token, "s3cret-token");
  EXPECT_EQ(c.filters.rspamd.url, "https://r.example:1");
  EXPECT_EQ(c.filters.rspamd.timeout, milliseconds(500));
  EXPECT_EQ(c.filters.rspamd.on_failure, OnFailure::kAccept);
  EXPECT_EQ(c.filters.clamav.database, "./db");
  EXPECT_EQ(c.filters.clamav.on_failure, OnFailure::kAccept);
  EXPECT_EQ(c.log.file, "./sw.log");
  ASSERT_EQ(c.domains.count("example.org"), 1u);
  const DomainConfig& d = c.domains.at("example.org");
  EXPECT_EQ(d.name, "example.org");
  EXPECT_TRUE(d.filtering);
  EXPECT_EQ(d.spam.tag_score, 3.5);
  EXPECT_EQ(d.spam.reject_score, std::nullopt);
  EXPECT_EQ(d.spam.subject_tag, "[SPAM]");
  EXPECT_EQ(d.tls, TlsPolicy::kVerify);
  EXPECT_EQ(d.recipients, (std::vector<std::string>{"postmaster", "bob@example.org"}));
}

TEST(ConfigLoader, UnknownKeySuggestsNearestName) {
  EXPECT_EQ(OneProblem("server:\n  lisen: [\"*:25\"]\n"),
            "t.yaml:2:3: unknown key `server.lisen` (did you mean `listen`?)");
}

TEST(ConfigLoader, UnknownTopLevelKeySuggestsSection) {
  EXPECT_EQ(OneProblem("queue: {}\nsevrer: {}\n"),
            "t.yaml:2:1: unknown key `sevrer` (did you mean `server`?)");
}

TEST(ConfigLoader, UnknownKeyFarFromEveryNameHasNoSuggestion) {
  EXPECT_EQ(OneProblem("admin:\n  password: x\n"), "t.yaml:2:3: unknown key `admin.password`");
  EXPECT_EQ(OneProblem("server:\n  received_product: \"a (b)\"\n"),
            "t.yaml:2:21: `server.received_product`: printable ASCII without ( ) \\, at most 64 "
            "characters");
}

TEST(ConfigLoader, UnknownDomainKeySuggests) {
  EXPECT_EQ(OneProblem(std::string(kDomain) + "    filtring: true\n"),
            "t.yaml:4:5: unknown key `domains.example.com.filtring` (did you mean `filtering`?)");
}

TEST(ConfigLoader, BadDurationReportsLineAndColumn) {
  EXPECT_EQ(OneProblem("queue:\n  retry_interval: 5 minutes\n"),
            "t.yaml:2:19: `queue.retry_interval`: bad duration `5 minutes` (use 500ms, 30s, 5m, "
            "4h or 30d)");
}

TEST(ConfigLoader, BadDurationInFlowMapReportsItsColumn) {
  EXPECT_EQ(OneProblem("server:\n  timeouts: { command: 5m, data: 10x }\n"),
            "t.yaml:2:34: `server.timeouts.data`: bad duration `10x` (use 500ms, 30s, 5m, 4h or "
            "30d)");
}

TEST(ConfigLoader, ZeroTimeoutIsAnError) {
  EXPECT_EQ(OneProblem("delivery:\n  connect_timeout: 0s\n"),
            "t.yaml:2:20: `delivery.connect_timeout` must be longer than 0");
}

TEST(ConfigLoader, BadSizeReportsLineAndColumn) {
  EXPECT_EQ(OneProblem("server:\n  max_message_size: 50 megs\n"),
            "t.yaml:2:21: `server.max_message_size`: bad size `50 megs` (use bytes, KiB, MiB or "
            "GiB)");
}

TEST(ConfigLoader, NumberOutOfRangeReportsRange) {
  EXPECT_EQ(OneProblem("server:\n  max_recipients: 0\n"),
            "t.yaml:2:19: `server.max_recipients`: expected a whole number from 1 to 4294967295, "
            "got `0`");
  EXPECT_EQ(OneProblem("server:\n  io_threads: 5000\n"),
            "t.yaml:2:15: `server.io_threads`: expected a whole number from 1 to 1, got `5000`");
}

TEST(ConfigLoader, MxResolverKeysAreBounded) {
  EXPECT_EQ(OneProblem("delivery:\n  mx_resolver_threads: 0\n"),
            "t.yaml:2:24: `delivery.mx_resolver_threads`: expected a whole number from 1 to 64, "
            "got `0`");
  EXPECT_EQ(OneProblem("delivery:\n  mx_idle_timeout: 0s\n"),
            "t.yaml:2:20: `delivery.mx_idle_timeout` must be longer than 0");
}

TEST(ConfigLoader, EmptyValuePointsAtItsKey) {
  EXPECT_EQ(OneProblem("server:\n  hostname:\n  max_errors: 3\n"),
            "t.yaml:2:3: `server.hostname`: expected a string, got nothing");
}

TEST(ConfigLoader, ListWhereScalarExpectedIsAnError) {
  EXPECT_EQ(OneProblem("server:\n  max_errors: [1]\n"),
            "t.yaml:2:15: `server.max_errors`: expected a whole number from 1 to 4294967295, got "
            "a list or map");
}

TEST(ConfigLoader, SectionMustBeAMap) {
  EXPECT_EQ(OneProblem("server: yes\n"), "t.yaml:1:9: `server` must be a map of keys");
  EXPECT_EQ(OneProblem("- a\n- b\n"), "t.yaml:1:1: the configuration must be a map of keys");
}

TEST(ConfigLoader, DuplicateKeyIsAnError) {
  EXPECT_EQ(OneProblem("queue:\n  path: /a\n  path: /b\n"),
            "t.yaml:3:3: duplicate key `queue.path`");
}

TEST(ConfigLoader, AllProblemsAreReportedAtOnce) {
  auto problems = Problems(
      "server:\n  max_errors: x\n  hostnme: a\nqueue:\n  max_age: 1y\n"
      "domains:\n  example.com: {filtering: true}\n");
  ASSERT_EQ(problems.size(), 4u) << ::testing::PrintToString(problems);
  EXPECT_EQ(problems[0].rfind("t.yaml:2:15: ", 0), 0u) << problems[0];
  EXPECT_EQ(problems[1].rfind("t.yaml:3:3: unknown key `server.hostnme` (did you mean", 0), 0u)
      << problems[1];
  EXPECT_EQ(problems[2].rfind("t.yaml:5:12: ", 0), 0u) << problems[2];
  EXPECT_EQ(problems[3], "t.yaml:7:3: domain `example.com` has no `destinations`");
}

TEST(ConfigLoader, ConfigErrorWhatJoinsProblemsWithNewlines) {
  try {
    LoadConfigFromString("server:\n  max_errors: x\n  max_recipients: y\n", "t.yaml");
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.problems().size(), 2u);
    EXPECT_EQ(std::string(e.what()), e.problems()[0] + "\n" + e.problems()[1]);
  }
}

TEST(ConfigLoader, YamlSyntaxErrorHasLineAndColumn) {
  EXPECT_EQ(OneProblem("server:\n  listen: [\"*:25\"\nqueue: {}\n"),
            "t.yaml:3:1: end of sequence flow not found");
  EXPECT_EQ(OneProblem("a: b: c\n"), "t.yaml:1:5: illegal map value");
}

TEST(ConfigLoader, TabIndentationGetsAHint) {
  EXPECT_EQ(OneProblem("server:\n\tlisten: x\n"),
            "t.yaml:2:8: illegal map value (tabs cannot indent YAML; use spaces)");
}

// yaml-cpp 0.7's LoadAll never returns on a stray flow entry; the loader must.
TEST(ConfigLoader, StrayCommaIsReportedNotLoopedOn) {
  EXPECT_EQ(OneProblem(", x\n"),
            "t.yaml:1:1: unexpected `,`: expected `key: value`, `- item` or a comment here");
  EXPECT_EQ(OneProblem("# comment\nqueue: {}\n---\n, x\n"),
            "t.yaml:4:1: unexpected `,`: expected `key: value`, `- item` or a comment here");
}

TEST(ConfigLoader, MultipleDocumentsAreAnError) {
  EXPECT_EQ(OneProblem("queue: {}\n---\nqueue: {}\n"),
            "t.yaml:2:1: only one YAML document is allowed");
}

TEST(ConfigLoader, DomainWithoutDestinationsIsAnError) {
  EXPECT_EQ(OneProblem("domains:\n  example.com:\n    filtering: true\n"),
            "t.yaml:2:3: domain `example.com` has no `destinations`");
  EXPECT_EQ(OneProblem("domains:\n  example.com:\n"),
            "t.yaml:2:3: domain `example.com` has no `destinations`");
}

TEST(ConfigLoader, EmptyDestinationListIsAnError) {
  EXPECT_EQ(OneProblem("domains:\n  example.com:\n    destinations: []\n"),
            "t.yaml:3:19: `domains.example.com.destinations` must list at least one destination");
}

TEST(ConfigLoader, DestinationsMustBeAList) {
  EXPECT_EQ(OneProblem("domains:\n  example.com:\n    destinations: mail.example.com\n"),
            "t.yaml:3:19: `domains.example.com.destinations`: expected a list such as "
            "[\"mail.example.com\", \"[192.0.2.10]:2525\"]");
}

TEST(ConfigLoader, BadDestinationPointsAtTheItem) {
  EXPECT_EQ(OneProblem("domains:\n  example.com:\n    destinations:\n      - ok.example.com\n"
                       "      - \"bad host:25\"\n"),
            "t.yaml:5:9: `domains.example.com.destinations`: bad destination `bad host:25` "
            "(expected host, host:port, [ip]:port or [host]:port)");
}

TEST(ConfigLoader, DomainNamesAreLowerCasedWithoutTrailingDot) {
  Config c = Load("domains:\n  MiXeD.Example.COM.:\n    destinations: [a.example]\n");
  ASSERT_EQ(c.domains.size(), 1u);
  EXPECT_EQ(c.domains.begin()->first, "mixed.example.com");
  EXPECT_EQ(c.domains.begin()->second.name, "mixed.example.com");
}

TEST(ConfigLoader, IpAddressIsNotADomain) {
  EXPECT_EQ(OneProblem("domains:\n  192.0.2.1:\n    destinations: [a.example]\n"),
            "t.yaml:2:3: `192.0.2.1` is not a domain name (letters, digits, hyphens and dots; no "
            "IP addresses)");
  EXPECT_EQ(Problems("domains:\n  \"[192.0.2.1]\":\n    destinations: [a.example]\n").size(), 1u);
  EXPECT_EQ(Problems("domains:\n  \"*.example.com\":\n    destinations: [a.example]\n").size(), 1u);
}

TEST(ConfigLoader, SameDomainTwiceInDifferentCaseIsAnError) {
  EXPECT_EQ(OneProblem(std::string(kDomain) + "  EXAMPLE.com:\n    destinations: [b.example]\n"),
            "t.yaml:4:3: domain `example.com` is listed twice");
}

TEST(ConfigLoader, RecipientsAreLowerCasedAndMustBelongToTheDomain) {
  Config c = Load(std::string(kDomain) + "    recipients: [Alice, BOB@example.COM, alice]\n");
  EXPECT_EQ(c.domains.at("example.com").recipients,
            (std::vector<std::string>{"alice", "bob@example.com"}));
  EXPECT_EQ(OneProblem(std::string(kDomain) + "    recipients: [bob@other.example]\n"),
            "t.yaml:4:18: `domains.example.com.recipients`: `bob@other.example` is not in domain "
            "`example.com`");
  EXPECT_EQ(OneProblem(std::string(kDomain) + "    recipients: [\"a b\"]\n"),
            "t.yaml:4:18: `domains.example.com.recipients`: bad recipient `a b`");
}

TEST(ConfigLoader, SpamScoresDefaultWhenAbsentAndNullMeansRspamdActions) {
  Config absent = Load(kDomain);
  EXPECT_EQ(absent.domains.at("example.com").spam.tag_score, 6);
  EXPECT_EQ(absent.domains.at("example.com").spam.reject_score, 15);
  Config partial = Load(std::string(kDomain) + "    spam: {reject_score: 20}\n");
  EXPECT_EQ(partial.domains.at("example.com").spam.tag_score, 6);
  EXPECT_EQ(partial.domains.at("example.com").spam.reject_score, 20);
  Config nulls = Load(std::string(kDomain) + "    spam: {tag_score: null, reject_score: ~}\n");
  EXPECT_EQ(nulls.domains.at("example.com").spam.tag_score, std::nullopt);
  EXPECT_EQ(nulls.domains.at("example.com").spam.reject_score, std::nullopt);
}

TEST(ConfigLoader, BadScoreAndTagAboveRejectAreErrors) {
  EXPECT_EQ(OneProblem(std::string(kDomain) + "    spam: {tag_score: high}\n"),
            "t.yaml:4:23: `domains.example.com.spam.tag_score`: expected a number or null, got "
            "`high`");
  EXPECT_EQ(OneProblem(std::string(kDomain) + "    spam: {tag_score: 9, reject_score: 8}\n"),
            "t.yaml:4:40: `domains.example.com.spam`: tag_score 9 is above reject_score 8");
}

TEST(ConfigLoader, EnumValueSuggestsNearestChoice) {
  EXPECT_EQ(OneProblem(std::string(kDomain) + "    tls: requird\n"),
            "t.yaml:4:10: `domains.example.com.tls`: expected one of opportunistic, required, "
            "verify, got `requird` (did you mean `required`?)");
  EXPECT_EQ(OneProblem(std::string(kDomain) + "    virus: accept\n"),
            "t.yaml:4:12: `domains.example.com.virus`: expected one of reject, got `accept`");
  EXPECT_EQ(OneProblem("filters:\n  clamav: {on_failure: pass}\n"),
            "t.yaml:2:24: `filters.clamav.on_failure`: expected one of tempfail, accept, got "
            "`pass`");
}

TEST(ConfigLoader, FilteringMustBeABoolean) {
  EXPECT_EQ(OneProblem(std::string(kDomain) + "    filtering: maybe\n"),
            "t.yaml:4:16: `domains.example.com.filtering`: expected true or false, got `maybe`");
}

TEST(ConfigLoader, DelayWarningOffOrFalseIsDisabled) {
  EXPECT_FALSE(Load("queue: {delay_warning: off}\n").queue.delay_warning);
  EXPECT_FALSE(Load("queue: {delay_warning: false}\n").queue.delay_warning);
  EXPECT_EQ(Load("queue: {delay_warning: 4h}\n").queue.delay_warning, hours(4));
  EXPECT_EQ(OneProblem("queue: {delay_warning: soon}\n"),
            "t.yaml:1:24: `queue.delay_warning`: bad duration `soon` (use 500ms, 30s, 5m, 4h or "
            "30d)");
}

TEST(ConfigLoader, ListenAcceptsOneStringAndRejectsNames) {
  Config c = Load("server: {listen: \"127.0.0.1:0\"}\n");
  ASSERT_EQ(c.server.listen.size(), 1u);
  EXPECT_EQ(c.server.listen[0].ToString(), "127.0.0.1:0");
  EXPECT_EQ(OneProblem("server:\n  listen: [\"127.0.0.1:25\", \"localhost:25\"]\n"),
            "t.yaml:2:28: `server.listen`: bad address `localhost:25` (expected IP:PORT, "
            "[IPv6]:PORT or *:PORT)");
  EXPECT_EQ(OneProblem("server:\n  listen: []\n"),
            "t.yaml:2:11: `server.listen` must list at least one address");
}

TEST(ConfigLoader, AdminListenMustNotTakeTheSmtpAddress) {
  EXPECT_EQ(OneProblem("server: {listen: [\"*:2525\"]}\nadmin:\n  listen: 127.0.0.1:2525\n"),
            "t.yaml:3:11: `admin.listen` 127.0.0.1:2525 conflicts with `server.listen` "
            "0.0.0.0:2525");
  EXPECT_TRUE(
      Problems("server: {listen: [\"127.0.0.1:0\"]}\nadmin: {listen: 127.0.0.1:0}\n").empty());
}

TEST(ConfigLoader, TlsNeedsCertificateAndKey) {
  std::string cert = WriteTemp("only-cert.pem", "cert");
  EXPECT_EQ(OneProblem("server:\n  tls: {certificate: " + cert + "}\n"),
            "t.yaml:2:8: `server.tls` needs `key`");
  EXPECT_EQ(OneProblem("server:\n  tls: {certificate: " + cert + ", key: /nonexistent/k.pem}\n"),
            "t.yaml:2:" + std::to_string(29 + cert.size()) +
                ": `server.tls.key`: cannot open key file `/nonexistent/k.pem`: No such file or "
                "directory");
}

TEST(ConfigLoader, TlsCertificatesAndMinVersion) {
  std::string cert = WriteTemp("sni-cert.pem", "cert");
  std::string key = WriteTemp("sni-key.pem", "key");
  Config c = Load("server:\n  tls: {certificate: " + cert + ", key: " + key + "}\n");
  ASSERT_TRUE(c.server.tls);
  EXPECT_EQ(c.server.tls->min_version, TlsVersion::k1_2);
  EXPECT_TRUE(c.server.tls->certificates.empty());
  c = Load("server:\n  tls:\n    certificate: " + cert + "\n    key: " + key +
           "\n    min_version: \"1.0\"\n    certificates:\n      - {certificate: " + cert +
           ", key: " + key + "}\n      - certificate: " + key + "\n        key: " + cert + "\n");
  ASSERT_TRUE(c.server.tls);
  EXPECT_EQ(c.server.tls->min_version, TlsVersion::k1_0);
  ASSERT_EQ(c.server.tls->certificates.size(), 2u);
  EXPECT_EQ(c.server.tls->certificates[0].certificate, cert);
  EXPECT_EQ(c.server.tls->certificates[1].certificate, key);
  EXPECT_EQ(c.server.tls->certificates[1].key, cert);
  EXPECT_EQ(
      Load("server:\n  tls: {certificate: " + cert + ", key: " + key + ", min_version: 1.3}\n")
          .server.tls->min_version,
      TlsVersion::k1_3);
}

TEST(ConfigLoader, TlsCertificatesProblemsAreLocated) {
  std::string cert = WriteTemp("sni-cert2.pem", "cert");
  std::string base = "server:\n  tls:\n    certificate: " + cert + "\n    key: " + cert + "\n";
  EXPECT_EQ(OneProblem(base + "    min_version: 1.4\n"),
            "t.yaml:5:18: `server.tls.min_version`: expected one of 1.0, 1.1, 1.2, 1.3, got `1.4`"
            " (did you mean `1.0`?)");
  EXPECT_EQ(OneProblem(base + "    certificates: " + cert + "\n"),
            "t.yaml:5:19: `server.tls.certificates`: expected a list of {certificate: FILE, key: "
            "FILE}");
  EXPECT_EQ(OneProblem(base + "    certificates:\n      - {certificate: " + cert + "}\n"),
            "t.yaml:6:9: `server.tls.certificates[0]` needs `key`");
  EXPECT_EQ(OneProblem(base + "    certificates:\n      - {certificate: " + cert +
                       ", key: " + cert + ", cert: x}\n"),
            "t.yaml:6:" + std::to_string(32 + 2 * cert.size()) +
                ": unknown key `server.tls.certificates[0].cert`");
  EXPECT_EQ(OneProblem(base + "    certificates:\n      - {certificate: " + cert +
                       ", key: /nonexistent/k.pem}\n"),
            "t.yaml:6:" + std::to_string(30 + cert.size()) +
                ": `server.tls.certificates[0].key`: cannot open key file `/nonexistent/k.pem`: "
                "No such file or directory");
  EXPECT_EQ(OneProblem(base + "    certificates:\n      - just-a-file\n"),
            "t.yaml:6:9: `server.tls.certificates[0]`: expected {certificate: FILE, key: FILE}");
  EXPECT_EQ(OneProblem(base + "    min_versoin: 1.2\n"),
            "t.yaml:5:5: unknown key `server.tls.min_versoin` (did you mean `min_version`?)");
}

TEST(ConfigLoader, TokenFileIsReadAndTrimmed) {
  std::string path = WriteTemp("token2", "\n  abc123 \n");
  EXPECT_EQ(Load("admin: {token_file: " + path + "}\n").admin.token, "abc123");
}

TEST(ConfigLoader, TokenAndTokenFileAreMutuallyExclusive) {
  std::string path = WriteTemp("token3", "abc");
  EXPECT_EQ(OneProblem("admin:\n  token: x\n  token_file: " + path + "\n"),
            "t.yaml:3:15: `admin.token` and `admin.token_file` are mutually exclusive");
}

TEST(ConfigLoader, MissingOrEmptyTokenFileIsAnError) {
  EXPECT_EQ(OneProblem("admin:\n  token_file: /nonexistent/token\n"),
            "t.yaml:2:15: `admin.token_file`: cannot open `/nonexistent/token`: No such file or "
            "directory");
  std::string empty = WriteTemp("token-empty", " \n");
  EXPECT_EQ(OneProblem("admin:\n  token_file: " + empty + "\n"),
            "t.yaml:2:15: `admin.token_file`: `" + empty + "` is empty");
}

TEST(ConfigLoader, OutboundRelayAndRspamdUrlAreValidated) {
  EXPECT_EQ(OneProblem("delivery:\n  outbound_relay: \"[192.0.2.1]:x\"\n"),
            "t.yaml:2:19: `delivery.outbound_relay`: bad destination `[192.0.2.1]:x` (expected "
            "[ip]:port, host or host:port)");
  EXPECT_EQ(OneProblem("filters:\n  rspamd: {url: \"127.0.0.1:11333\"}\n"),
            "t.yaml:2:17: `filters.rspamd.url`: expected an http:// URL or unix:/PATH, got "
            "`127.0.0.1:11333`");
  EXPECT_EQ(OneProblem("filters:\n  rspamd: {url: \"unix:run/rspamd.sock\"}\n"),
            "t.yaml:2:17: `filters.rspamd.url`: expected an http:// URL or unix:/PATH, got "
            "`unix:run/rspamd.sock`");
  EXPECT_EQ(OneProblem("filters:\n  rspamd: {url: \"unix:/" + std::string(110, 'x') + "\"}\n"),
            "t.yaml:2:17: `filters.rspamd.url`: expected an http:// URL or unix:/PATH, got "
            "`unix:/" +
                std::string(110, 'x') + "`");
}

TEST(ConfigLoader, RspamdUrlMayBeAUnixSocket) {
  Config c = Load("filters:\n  rspamd: {url: \"unix:/run/rspamd/normal.sock\"}\n");
  EXPECT_EQ(c.filters.rspamd.url, "unix:/run/rspamd/normal.sock");
}

TEST(ConfigLoader, HostnameMustLookLikeAHostName) {
  EXPECT_EQ(OneProblem("server: {hostname: \"mx example\"}\n"),
            "t.yaml:1:20: `server.hostname`: `mx example` is not a host name");
}

TEST(ConfigLoader, MissingFileSaysCannotOpen) {
  try {
    LoadConfig("/nonexistent/spamweeder.yaml");
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.problems().size(), 1u);
    EXPECT_EQ(e.problems()[0],
              "/nonexistent/spamweeder.yaml: cannot open: No such file or directory");
  }
}

TEST(ConfigLoader, FileProblemsAreNamedAfterThePath) {
  std::string path = WriteTemp("bad.yaml", "queue:\n  max_age: forever\n");
  try {
    LoadConfig(path);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.problems().size(), 1u);
    EXPECT_EQ(e.problems()[0].rfind(path + ":2:12: `queue.max_age`: bad duration", 0), 0u)
        << e.problems()[0];
  }
  std::string good = WriteTemp("good.yaml", kDomain);
  EXPECT_EQ(LoadConfig(good).source, good);
}

// contrib/spamweeder.production.yaml is a valid config once its token file exists.
TEST(ConfigLoader, ProductionExampleLoads) {
  std::ifstream f(std::string(SW_SOURCE_DIR) + "/contrib/spamweeder.production.yaml");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  const std::string token_path = "/etc/spamweeder/admin.token";
  size_t at = text.find(token_path);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, token_path.size(), WriteTemp("admin.token", "s3cret\n"));
  Config c = LoadConfigFromString(text, "production.yaml");
  ASSERT_EQ(c.server.listen.size(), 2u);
  EXPECT_EQ(c.server.listen[0].ToString(), "0.0.0.0:25");
  EXPECT_EQ(c.queue.path, "/var/lib/spamweeder/queue");
  EXPECT_EQ(c.admin.token, "s3cret");
  ASSERT_EQ(c.domains.size(), 2u);
  EXPECT_FALSE(c.domains.at("customer-a.example").filtering);
  EXPECT_EQ(c.domains.at("customer-a.example").destinations.size(), 2u);
  EXPECT_TRUE(c.domains.at("customer-b.example").filtering);
  EXPECT_EQ(c.domains.at("customer-b.example").tls, TlsPolicy::kRequired);
}

// contrib/cluster/mx1.yaml and mx2.yaml (the two-node recipe, contrib/CLUSTER.md) are valid
// configs once their token file exists, and differ only in the node's names.
TEST(ConfigLoader, ClusterExamplesLoad) {
  std::string token = WriteTemp("admin.token", "s3cret\n");
  for (const std::string node : {"mx1", "mx2"}) {
    std::ifstream f(std::string(SW_SOURCE_DIR) + "/contrib/cluster/" + node + ".yaml");
    std::stringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    const std::string token_path = "/etc/spamweeder/admin.token";
    size_t at = text.find(token_path);
    ASSERT_NE(at, std::string::npos) << node;
    text.replace(at, token_path.size(), token);
    Config c = LoadConfigFromString(text, node + ".yaml");
    EXPECT_EQ(c.cluster.node, node);
    EXPECT_EQ(c.server.hostname, node + ".example.net");
    EXPECT_EQ(c.cluster.store.rfind("postgresql://", 0), 0u);
    EXPECT_EQ(c.cluster.heartbeat_interval, seconds(5));
    EXPECT_EQ(c.queue.path, "/var/lib/spamweeder/queue");
    EXPECT_EQ(c.domains.size(), 1u);
  }
}

// cluster.heartbeat_interval: 5s by default, a duration above zero otherwise.
TEST(ConfigLoader, ClusterHeartbeatInterval) {
  EXPECT_EQ(Load(kDomain).cluster.heartbeat_interval, seconds(5));
  Config c = Load(std::string(kDomain) + "cluster:\n  heartbeat_interval: 250ms\n");
  EXPECT_EQ(c.cluster.heartbeat_interval, std::chrono::milliseconds(250));
  EXPECT_NE(OneProblem(std::string(kDomain) + "cluster:\n  heartbeat_interval: 0s\n")
                .find("`cluster.heartbeat_interval` must be longer than 0"),
            std::string::npos);
  EXPECT_NE(OneProblem(std::string(kDomain) + "cluster:\n  heartbeat_interval: soon\n")
                .find("bad duration"),
            std::string::npos);
}

TEST(ConfigLoader, BundledConfigLoads) {
  Config c = LoadConfig(std::string(SW_SOURCE_DIR) + "/config/spamweeder.yaml");
  EXPECT_EQ(c.server.hostname, "mx.spamweeder.test");
  ASSERT_EQ(c.server.listen.size(), 1u);
  EXPECT_EQ(c.server.listen[0].ToString(), "127.0.0.1:2525");
  EXPECT_EQ(c.queue.path, "./var/queue");
  EXPECT_EQ(c.admin.listen.ToString(), "127.0.0.1:8025");
  EXPECT_FALSE(c.admin.token.empty());
  ASSERT_EQ(c.domains.size(), 1u);
  const DomainConfig& d = c.domains.at("example.com");
  ASSERT_EQ(d.destinations.size(), 1u);
  EXPECT_EQ(d.destinations[0].ToString(), "[127.0.0.1]:2526");
  EXPECT_TRUE(d.destinations[0].literal);
  EXPECT_FALSE(d.filtering);
  EXPECT_EQ(c.alerts.sms.kind, SmsKind::kNone);  // runs without SMS secrets
  EXPECT_EQ(c.alerts.brand.from_name, "SpamWeeder Alerts");
  EXPECT_EQ(c.usage.retention_days, 400u);
}

TEST(ConfigLoader, SummarizeListsListenQueueAndDomains) {
  Config c = Load(
      "server: {listen: [\"127.0.0.1:2525\"]}\nqueue: {path: ./q}\ndomains:\n"
      "  b.example: {destinations: [\"[127.0.0.1]:2526\", mx.b.example], "
      "filtering: true}\n  a.example: {destinations: [mx.a.example:2525]}\n");
  EXPECT_EQ(Summarize(c),
            "config t.yaml: ok\n"
            "  hostname: mx.example.net\n"
            "  listen: 127.0.0.1:2525\n"
            "  queue: ./q\n"
            "  admin: 127.0.0.1:8025\n"
            "  domains: 2 (1 with filtering)\n"
            "    a.example -> mx.a.example:2525\n"
            "    b.example -> [127.0.0.1]:2526, mx.b.example:25 (filtering)\n");
}

// Bad config never crashes and never gets past the loader unexplained: random edits of the
// bundled config (bytes deleted, duplicated or replaced by YAML's special characters) either
// load or throw ConfigError whose every problem reads `NAME:LINE:COL: message`.
TEST(ConfigLoader, RandomlyDamagedConfigsLoadOrReportFileLineCol) {
  std::ifstream f(std::string(SW_SOURCE_DIR) + "/config/spamweeder.yaml", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string good = ss.str();
  ASSERT_FALSE(good.empty());
  const std::string special = ":{}[],&*#?|-<>=!%@`'\"\n\t 0~";
  const std::regex located("^d\\.yaml:[0-9]+:[0-9]+: .+");
  std::mt19937 rng(5321);
  int loaded = 0, rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text = good;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text.erase(at, 1 + rng() % 8);
          break;
        case 1:
          text.insert(at, text.substr(at, 1 + rng() % 16));
          break;
        default:
          text[at] = special[rng() % special.size()];
      }
    }
    try {
      LoadConfigFromString(text, "d.yaml");
      ++loaded;
    } catch (const ConfigError& e) {
      ++rejected;
      ASSERT_FALSE(e.problems().empty()) << text;
      for (const auto& p : e.problems())
        ASSERT_TRUE(std::regex_match(p, located)) << "problem `" << p << "` for:\n" << text;
    }
  }
  // Both outcomes occur: the edits are neither all harmless nor all fatal.
  EXPECT_GT(loaded, 100);
  EXPECT_GT(rejected, 1000);
}

}  // namespace
}  // namespace sw::config
