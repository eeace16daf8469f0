// Tests the config loader's Premium, alert, usage and recipient-callout sections: defaults,
// every key read, and bad values reported with their place. Fails with a GoogleTest assertion.
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"
#include "tests/config/config_test_util.h"

namespace sw::config {
namespace {

using namespace test_support;  // Load, Problems, kDomain, chrono units

TEST(ConfigLoader, FilterExtensionKeysHaveDefaultsAndAreRead) {
  Config d = Load(kDomain);
  EXPECT_EQ(d.filters.rspamd.max_connections, 32u);
  EXPECT_EQ(d.filters.clamav.temp_dir, "/tmp");
  EXPECT_EQ(d.filters.clamav.timeout, seconds(60));
  EXPECT_EQ(d.filters.clamav.reload_interval, seconds(60));
  EXPECT_EQ(d.filters.clamav.threads, 0u);
  EXPECT_EQ(d.filters.clamav.isolation, ClamavIsolation::kProcess);
  EXPECT_EQ(d.filters.clamav.worker_memory, 4ULL << 30);
  Config c = Load(std::string(kDomain) +
                  "filters:\n  rspamd: {max_connections: 4}\n"
                  "  clamav: {temp_dir: /dev/shm, timeout: 5s, reload_interval: 2s, threads: 3,\n"
                  "           isolation: in_process, worker_memory: 512MiB}\n");
  EXPECT_EQ(c.filters.clamav.isolation, ClamavIsolation::kInProcess);
  EXPECT_EQ(c.filters.clamav.worker_memory, 512ULL << 20);
  EXPECT_EQ(c.filters.rspamd.max_connections, 4u);
  EXPECT_EQ(c.filters.clamav.temp_dir, "/dev/shm");
  EXPECT_EQ(c.filters.clamav.timeout, seconds(5));
  EXPECT_EQ(c.filters.clamav.reload_interval, seconds(2));
  EXPECT_EQ(c.filters.clamav.threads, 3u);
  EXPECT_EQ(OneProblem("filters:\n  clamav: {temp_dir: \"\"}\n"),
            "t.yaml:2:22: `filters.clamav.temp_dir` must not be empty");
  EXPECT_EQ(OneProblem("filters:\n  clamav: {timeout: 0s}\n"),
            "t.yaml:2:21: `filters.clamav.timeout` must be longer than 0");
  EXPECT_NE(
      OneProblem("filters:\n  clamav: {isolation: chroot}\n").find("`filters.clamav.isolation`"),
      std::string::npos);
  EXPECT_EQ(OneProblem("filters:\n  rspamd: {max_connections: 0}\n"),
            "t.yaml:2:29: `filters.rspamd.max_connections`: expected a whole number from 1 to "
            "10000, got `0`");
}

TEST(ConfigLoader, AlertsAndUsageDefaultWhenAbsent) {
  Config c = Load(kDomain);
  EXPECT_EQ(c.alerts.grace, minutes(5));
  EXPECT_EQ(c.alerts.repeat, hours(24));
  EXPECT_EQ(c.alerts.retry_for, hours(24));
  EXPECT_EQ(c.alerts.retry_min, seconds(10));
  EXPECT_EQ(c.alerts.retry_max, minutes(10));
  EXPECT_EQ(c.alerts.up_wait, minutes(1));
  EXPECT_EQ(c.alerts.http_timeout, seconds(10));
  EXPECT_EQ(c.alerts.brand.product_name, "SpamWeeder");
  EXPECT_EQ(c.alerts.brand.from, "");
  EXPECT_EQ(c.alerts.brand.from_name, "");
  EXPECT_EQ(c.alerts.brand.support_email, "");
  EXPECT_EQ(c.alerts.brand.logo_url, "");
  EXPECT_EQ(c.alerts.sms.kind, SmsKind::kNone);
  EXPECT_EQ(c.alerts.sms.url, "");
  EXPECT_EQ(c.alerts.sms.account, "");
  EXPECT_EQ(c.alerts.sms.token_file, "");
  EXPECT_EQ(c.alerts.sms.from, "");
  EXPECT_EQ(c.alerts.sms.timeout, seconds(10));
  EXPECT_EQ(c.usage.retention_days, 400u);
  EXPECT_EQ(c.usage.flush_interval, seconds(10));
  // Empty sections are the defaults too.
  Config e = Load("alerts:\nusage: {}\n");
  EXPECT_EQ(e.alerts.grace, minutes(5));
  EXPECT_EQ(e.usage.retention_days, 400u);
}

TEST(ConfigLoader, AlertsAndUsageEveryKeyIsRead) {
  Config c = Load(R"(alerts:
  grace: 2m
  repeat: 12h
  retry_for: 6h
  retry_min: 5s
  retry_max: 5s
  up_wait: 30s
  http_timeout: 3s
  brand: {product_name: "MailShield", from: "alerts@example.net", from_name: "MailShield Alerts",
          support_email: "Support@Example.net", logo_url: "https://example.net/logo.png"}
  sms: {kind: twilio, url: "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json",
        account: "AC123", token_file: "/etc/spamweeder/sms-token", from: "+15550001111",
        timeout: 7s}
usage:
  retention_days: 3650
  flush_interval: 1h
)");
  EXPECT_EQ(c.alerts.grace, minutes(2));
  EXPECT_EQ(c.alerts.repeat, hours(12));
  EXPECT_EQ(c.alerts.retry_for, hours(6));
  EXPECT_EQ(c.alerts.retry_min, seconds(5));
  EXPECT_EQ(c.alerts.retry_max, seconds(5));
  EXPECT_EQ(c.alerts.up_wait, seconds(30));
  EXPECT_EQ(c.alerts.http_timeout, seconds(3));
  EXPECT_EQ(c.alerts.brand.product_name, "MailShield");
  EXPECT_EQ(c.alerts.brand.from, "alerts@example.net");
  EXPECT_EQ(c.alerts.brand.from_name, "MailShield Alerts");
  EXPECT_EQ(c.alerts.brand.support_email, "Support@Example.net");
  EXPECT_EQ(c.alerts.brand.logo_url, "https://example.net/logo.png");
  EXPECT_EQ(c.alerts.sms.kind, SmsKind::kTwilio);
  EXPECT_EQ(c.alerts.sms.url, "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json");
  EXPECT_EQ(c.alerts.sms.account, "AC123");
  EXPECT_EQ(c.alerts.sms.token_file, "/etc/spamweeder/sms-token");  // named, not read
  EXPECT_EQ(c.alerts.sms.from, "+15550001111");
  EXPECT_EQ(c.alerts.sms.timeout, seconds(7));
  EXPECT_EQ(c.usage.retention_days, 3650u);
  EXPECT_EQ(c.usage.flush_interval, hours(1));
  // A webhook needs only its url; the token file is optional.
  Config w = Load("alerts:\n  sms: {kind: webhook, url: \"http://127.0.0.1:9/sms\"}\n");
  EXPECT_EQ(w.alerts.sms.kind, SmsKind::kWebhook);
  EXPECT_EQ(w.alerts.sms.url, "http://127.0.0.1:9/sms");
  EXPECT_EQ(w.alerts.sms.token_file, "");
  EXPECT_EQ(Load("usage: {flush_interval: 1s, retention_days: 1}\n").usage.retention_days, 1u);
}

TEST(ConfigLoader, AlertDurationsMustBePositive) {
  EXPECT_EQ(OneProblem("alerts:\n  grace: 0s\n"),
            "t.yaml:2:10: `alerts.grace` must be longer than 0");
  EXPECT_EQ(OneProblem("alerts:\n  repeat: -5m\n"),
            "t.yaml:2:11: `alerts.repeat`: bad duration `-5m` (use 500ms, 30s, 5m, 4h or 30d)");
  for (const char* key : {"retry_for", "retry_min", "retry_max", "up_wait", "http_timeout"}) {
    std::string problem = OneProblem("alerts:\n  " + std::string(key) + ": 0\n");
    EXPECT_NE(problem.find("`alerts." + std::string(key) + "` must be longer than 0"),
              std::string::npos)
        << problem;
  }
  EXPECT_EQ(OneProblem("alerts:\n  sms: {timeout: 0ms}\n"),
            "t.yaml:2:18: `alerts.sms.timeout` must be longer than 0");
}

TEST(ConfigLoader, AlertRetryMinMustNotBeAboveRetryMax) {
  EXPECT_EQ(OneProblem("alerts:\n  retry_min: 1h\n  retry_max: 1m\n"),
            "t.yaml:2:14: `alerts.retry_min` must not be above `alerts.retry_max`");
  // Against the default of the other one.
  EXPECT_EQ(OneProblem("alerts:\n  retry_max: 5s\n"),
            "t.yaml:2:14: `alerts.retry_min` must not be above `alerts.retry_max`");
  EXPECT_EQ(OneProblem("alerts:\n  retry_min: 11m\n"),
            "t.yaml:2:14: `alerts.retry_min` must not be above `alerts.retry_max`");
}

TEST(ConfigLoader, AlertBrandAddressesAndLogoUrlAreValidated) {
  EXPECT_EQ(OneProblem("alerts:\n  brand: {from: \"alerts.example.net\"}\n"),
            "t.yaml:2:17: `alerts.brand.from`: `alerts.example.net` is not an address "
            "(local@domain)");
  EXPECT_EQ(OneProblem("alerts:\n  brand: {from: \"@example.net\"}\n"),
            "t.yaml:2:17: `alerts.brand.from`: `@example.net` is not an address (local@domain)");
  EXPECT_EQ(OneProblem("alerts:\n  brand: {support_email: \"help@192.0.2.1\"}\n"),
            "t.yaml:2:26: `alerts.brand.support_email`: `help@192.0.2.1` is not an address "
            "(local@domain)");
  EXPECT_EQ(OneProblem("alerts:\n  brand: {support_email: \"a b@example.net\"}\n"),
            "t.yaml:2:26: `alerts.brand.support_email`: `a b@example.net` is not an address "
            "(local@domain)");
  EXPECT_EQ(OneProblem("alerts:\n  brand: {logo_url: \"ftp://example.net/logo.png\"}\n"),
            "t.yaml:2:21: `alerts.brand.logo_url`: expected an http:// or https:// URL, got "
            "`ftp://example.net/logo.png`");
  EXPECT_EQ(OneProblem("alerts:\n  brand: {product_name: \"\"}\n"),
            "t.yaml:2:25: `alerts.brand.product_name` must not be empty");
  EXPECT_EQ(OneProblem("alerts:\n  brand: {form: a@example.net}\n"),
            "t.yaml:2:11: unknown key `alerts.brand.form` (did you mean `from`?)");
}

TEST(ConfigLoader, AlertSmsKindAndRequiredKeysAreValidated) {
  EXPECT_EQ(OneProblem("alerts:\n  sms: {kind: pager}\n"),
            "t.yaml:2:15: `alerts.sms.kind`: expected one of twilio, webhook, none, got `pager`");
  EXPECT_EQ(OneProblem("alerts:\n  sms: {kind: twilo}\n"),
            "t.yaml:2:15: `alerts.sms.kind`: expected one of twilio, webhook, none, got `twilo` "
            "(did you mean `twilio`?)");
  EXPECT_EQ(OneProblem("alerts:\n  sms:\n    kind: twilio\n    url: https://sms.example/send\n"
                       "    token_file: /etc/t\n    from: \"+15550001111\"\n"),
            "t.yaml:3:11: `alerts.sms.account` is required when `alerts.sms.kind` is twilio");
  auto problems = Problems("alerts:\n  sms: {kind: twilio}\n");
  EXPECT_EQ(problems,
            (std::vector<std::string>{
                "t.yaml:2:15: `alerts.sms.url` is required when `alerts.sms.kind` is twilio",
                "t.yaml:2:15: `alerts.sms.account` is required when `alerts.sms.kind` is twilio",
                "t.yaml:2:15: `alerts.sms.token_file` is required when `alerts.sms.kind` is "
                "twilio",
                "t.yaml:2:15: `alerts.sms.from` is required when `alerts.sms.kind` is twilio"}));
  EXPECT_EQ(OneProblem("alerts:\n  sms: {kind: webhook}\n"),
            "t.yaml:2:15: `alerts.sms.url` is required when `alerts.sms.kind` is webhook");
  EXPECT_EQ(OneProblem("alerts:\n  sms: {kind: webhook, url: \"sms.example/send\"}\n"),
            "t.yaml:2:29: `alerts.sms.url`: expected an http:// or https:// URL, got "
            "`sms.example/send`");
  EXPECT_EQ(OneProblem("alerts:\n  sms: {kind: none, token: x}\n"),
            "t.yaml:2:21: unknown key `alerts.sms.token`");
}

TEST(ConfigLoader, UnknownAlertsOrUsageKeyIsAnError) {
  EXPECT_EQ(OneProblem("alerts:\n  grase: 5m\n"),
            "t.yaml:2:3: unknown key `alerts.grase` (did you mean `grace`?)");
  EXPECT_EQ(OneProblem("usage:\n  retention: 30\n"), "t.yaml:2:3: unknown key `usage.retention`");
  EXPECT_EQ(OneProblem("alert: {}\n"), "t.yaml:1:1: unknown key `alert` (did you mean `alerts`?)");
  EXPECT_EQ(OneProblem("alerts: 5m\n"), "t.yaml:1:9: `alerts` must be a map of keys");
}

TEST(ConfigLoader, UsageRetentionAndFlushIntervalRanges) {
  EXPECT_EQ(OneProblem("usage:\n  retention_days: 0\n"),
            "t.yaml:2:19: `usage.retention_days`: expected a whole number from 1 to 3650, got `0`");
  EXPECT_EQ(OneProblem("usage:\n  retention_days: 3651\n"),
            "t.yaml:2:19: `usage.retention_days`: expected a whole number from 1 to 3650, got "
            "`3651`");
  EXPECT_EQ(OneProblem("usage:\n  flush_interval: 0s\n"),
            "t.yaml:2:19: `usage.flush_interval` must be longer than 0");
  EXPECT_EQ(OneProblem("usage:\n  flush_interval: 500ms\n"),
            "t.yaml:2:19: `usage.flush_interval`: expected 1s to 1h, got `500ms`");
  EXPECT_EQ(OneProblem("usage:\n  flush_interval: 61m\n"),
            "t.yaml:2:19: `usage.flush_interval`: expected 1s to 1h, got `61m`");
}

TEST(ConfigLoader, CalloutDefaultsAndValues) {
  Config d = Load(kDomain);
  EXPECT_EQ(d.callout.valid_for, hours(24 * 30));
  EXPECT_EQ(d.callout.invalid_for, hours(1));
  EXPECT_EQ(d.callout.max_entries, 100000u);
  EXPECT_EQ(d.callout.max_concurrent, 4u);
  EXPECT_EQ(d.callout.timeout, seconds(10));
  EXPECT_EQ(d.domains.at("example.com").recipient_verification, RecipientVerification::kOff);
  Config c = Load(
      "callout: {valid_for: 7d, invalid_for: 10m, max_entries: 50, max_concurrent: 2, "
      "timeout: 3s}\ndomains:\n  a.example: {destinations: [mx.a.example], "
      "recipient_verification: callout}\n  b.example: {destinations: [mx.b.example], "
      "recipient_verification: \"off\"}\n");
  EXPECT_EQ(c.callout.valid_for, hours(24 * 7));
  EXPECT_EQ(c.callout.invalid_for, minutes(10));
  EXPECT_EQ(c.callout.max_entries, 50u);
  EXPECT_EQ(c.callout.max_concurrent, 2u);
  EXPECT_EQ(c.callout.timeout, seconds(3));
  EXPECT_EQ(c.domains.at("a.example").recipient_verification, RecipientVerification::kCallout);
  EXPECT_EQ(c.domains.at("b.example").recipient_verification, RecipientVerification::kOff);
}

TEST(ConfigLoader, CalloutBadValuesAreErrors) {
  EXPECT_EQ(OneProblem("callout:\n  timeout: 0s\n"),
            "t.yaml:2:12: `callout.timeout` must be longer than 0");
  EXPECT_EQ(OneProblem("callout:\n  max_concurrent: 0\n"),
            "t.yaml:2:19: `callout.max_concurrent`: expected a whole number from 1 to 1000, "
            "got `0`");
  EXPECT_EQ(OneProblem("callout:\n  max_entries: -1\n").find("t.yaml:2:16: `callout.max_entries`"),
            0u);
  EXPECT_EQ(OneProblem("callout:\n  valid: 30d\n"), "t.yaml:2:3: unknown key `callout.valid`");
  EXPECT_EQ(OneProblem(std::string(kDomain) + "    recipient_verification: callot\n")
                .find("t.yaml:4:29: `domains.example.com.recipient_verification`: expected one "
                      "of off, callout, got `callot`"),
            0u);
}

}  // namespace
}  // namespace sw::config
