// Owns the alert engine's outbox: due items sent on their channel (email into the relay
// queue, SMS and webhooks over libcurl), results written back, retries with backoff until
// alerts.retry_for. Runs on the engine's thread.
// Fails soft: a failed send is retried; a store error leaves the item for the next run.
#include <boost/asio/co_spawn.hpp>
#include <boost/json.hpp>
#include <chrono>

#include "alerts/alert_engine.h"
#include "alerts/alert_message.h"
#include "common/json_text.h"
#include "common/log.h"

namespace sw::alerts {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Sends in flight at once (SMS, webhooks and emails together).
constexpr size_t kMaxInflight = 32;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string DomainOf(const std::string& a) {
  size_t at = a.rfind('@');
  std::string d = at == std::string::npos ? "" : a.substr(at + 1);
  for (char& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return d;
}

asio::awaitable<http::HttpResponse> Transfer(http::HttpClient* client, http::HttpRequest req) {
  co_return co_await client->Send(std::move(req));
}

std::string FormEscape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

void AlertEngine::Schedule(const std::string& key, const OutboxItem& item) {
  outbox_[key] = item;
  due_.emplace(item.next_ms, key);
}

void AlertEngine::ArmOutbox() {
  if (due_.empty() || sending_.size() >= kMaxInflight) return;
  int64_t first = due_.begin()->first;
  if (outbox_at_ != 0 && outbox_at_ <= first) return;
  outbox_at_ = first;
  outbox_timer_.expires_after(std::chrono::milliseconds(std::max<int64_t>(0, first - NowMs())));
  outbox_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    outbox_at_ = 0;
    RunOutbox();
  });
}

void AlertEngine::RunOutbox() {
  int64_t now = NowMs();
  while (!due_.empty() && due_.begin()->first <= now && sending_.size() < kMaxInflight) {
    std::string key = due_.begin()->second;
    due_.erase(due_.begin());
    if (!outbox_.count(key) || sending_.count(key)) continue;
    sending_[key] = true;
    SendOne(key);
  }
  ArmOutbox();
}

void AlertEngine::SendOne(const std::string& key) {
  const OutboxItem& item = outbox_[key];
  auto e = LoadEvent(item.event_id);
  if (!e || item.index >= e->deliveries.size()) {
    log::Error("alert_outbox_orphan").kv("key", key);
    control::ChangeSet cs;
    cs.deletes.push_back(key);
    store_.Commit(cs);
    outbox_.erase(key);
    sending_.erase(key);
    return;
  }
  const Delivery& d = e->deliveries[item.index];
  std::optional<http::HttpRequest> req;
  switch (d.channel) {
    case Channel::kEmail:
      return SendEmail(key, *e, d);
    case Channel::kSms:
      req = SmsRequest(*e, d);
      break;
    case Channel::kWebhook:
      req = WebhookRequest(*e, d);
      break;
  }
  if (!req) return OnSent(key, false, "channel not configured");
  SendHttp(key, std::move(*req));
}

void AlertEngine::SendEmail(const std::string& key, const AlertEvent& e, const Delivery& d) {
  auto cfg = Config();
  auto tenants = Tenants();
  auto r = tenants->resellers.find(e.reseller);
  Brand brand = BrandFor(r == tenants->resellers.end() ? nullptr : &r->second, cfg->alerts.brand,
                         cfg->server.hostname);
  auto body = std::make_shared<const std::string>(
      EmailMessage(e, brand, d.to, cfg->server.hostname, NowMs()));
  queue::Envelope env;
  env.arrival_ms = NowMs();
  env.sender = brand.from;
  env.helo = cfg->server.hostname;
  env.client_ip = "127.0.0.1";
  env.recipients = {{d.to, DomainOf(d.to), queue::RcptState::kPending, ""}};
  std::weak_ptr<Mailbox> mb = mailbox_;
  enqueue_(std::move(env), body, [this, mb, key](Status st, std::string qid) {
    auto box = mb.lock();
    if (!box) return;
    std::lock_guard lock(box->mu);
    if (!box->io) return;
    asio::post(*box->io, [this, key, st, qid] {
      if (st.ok()) log::Info("alert_email_queued").kv("key", key).kv("id", qid);
      OnSent(key, st.ok(), st.message());
    });
  });
}

void AlertEngine::SendHttp(const std::string& key, http::HttpRequest req) {
  asio::co_spawn(io_, Transfer(&http_, std::move(req)),
                 [this, key](std::exception_ptr ex, http::HttpResponse r) {
                   if (ex) return OnSent(key, false, "internal error");
                   bool ok = r.ok && r.status >= 200 && r.status < 300;
                   std::string err = r.ok ? "HTTP " + std::to_string(r.status) : r.error;
                   OnSent(key, ok, ok ? "" : err);
                 });
}

std::optional<http::HttpRequest> AlertEngine::SmsRequest(const AlertEvent& e, const Delivery& d) {
  auto cfg = Config();
  const auto& sms = cfg->alerts.sms;
  if (sms.kind == config::SmsKind::kNone) return std::nullopt;
  auto tenants = Tenants();
  auto r = tenants->resellers.find(e.reseller);
  Brand brand = BrandFor(r == tenants->resellers.end() ? nullptr : &r->second, cfg->alerts.brand,
                         cfg->server.hostname);
  std::string token;
  {
    std::lock_guard lock(mu_);
    token = sms_token_;
  }
  http::HttpRequest req;
  req.url = sms.url;
  req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(sms.timeout);
  std::string text = SmsText(e, brand);
  if (sms.kind == config::SmsKind::kTwilio) {
    req.content_type = "application/x-www-form-urlencoded";
    req.body = std::make_shared<const std::string>(
        "To=" + FormEscape(d.to) + "&From=" + FormEscape(sms.from) + "&Body=" + FormEscape(text));
    req.basic_user = sms.account;
    req.basic_password = token;
  } else {
    req.content_type = "application/json";
    if (!token.empty()) req.headers.push_back("Authorization: Bearer " + token);
    req.body = std::make_shared<const std::string>(
        json_text::Serialize(json::object{{"to", d.to},
                                          {"from", sms.from},
                                          {"body", text},
                                          {"event", KindName(e.kind)},
                                          {"domain", e.domain},
                                          {"id", e.id}}));
  }
  req.headers.push_back("Idempotency-Key: " + e.id + "/sms/" + std::to_string(d.contact));
  return req;
}

std::optional<http::HttpRequest> AlertEngine::WebhookRequest(const AlertEvent& e,
                                                             const Delivery& d) {
  auto cfg = Config();
  auto tenants = Tenants();
  auto r = tenants->resellers.find(e.reseller);
  Brand brand = BrandFor(r == tenants->resellers.end() ? nullptr : &r->second, cfg->alerts.brand,
                         cfg->server.hostname);
  std::string secret;
  auto c = tenants->customers.find(e.customer);
  if (c != tenants->customers.end() && d.contact < c->second.contacts.size())
    secret = c->second.contacts[d.contact].webhook_secret;
  std::string body = WebhookBody(e, brand);
  http::HttpRequest req;
  req.url = d.to;
  req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg->alerts.http_timeout);
  req.content_type = "application/json";
  req.headers = {"X-SpamWeeder-Event: " + std::string(KindName(e.kind)),
                 "X-SpamWeeder-Delivery: " + e.id + "/webhook/" + std::to_string(d.contact)};
  if (!secret.empty()) req.headers.push_back("X-SpamWeeder-Signature: " + Signature(secret, body));
  req.body = std::make_shared<const std::string>(std::move(body));
  return req;
}

// Writes the result: sent (the outbox item goes), failed for good, or retried later.
void AlertEngine::OnSent(const std::string& key, bool ok, const std::string& error) {
  sending_.erase(key);
  auto it = outbox_.find(key);
  if (it == outbox_.end()) return ArmOutbox();
  OutboxItem item = it->second;
  auto e = LoadEvent(item.event_id);
  auto cfg = Config();
  int64_t now = NowMs();
  ++item.attempts;
  bool give_up = !ok && now - item.created_ms >= cfg->alerts.retry_for.count();
  if (e && item.index < e->deliveries.size()) {
    Delivery& d = e->deliveries[item.index];
    d.attempts = item.attempts;
    d.last_error = ok ? "" : error;
    d.state = ok ? "sent" : give_up ? "failed" : "pending";
    if (ok) d.sent_ms = now;
    const char* result = ok ? "sent" : give_up ? "failed" : "retry";
    metrics::Global()
        .AddCounter("spamweeder_alert_deliveries_total",
                    "Alert delivery attempts per reseller, channel and result",
                    {{"reseller", e->reseller.empty() ? "-" : e->reseller},
                     {"channel", ChannelName(d.channel)},
                     {"result", result}})
        .Inc();
    log::Info(std::string("alert_") + result)
        .kv("id", e->id)
        .kv("channel", ChannelName(d.channel))
        .kv("contact", d.contact)
        .kv("attempts", item.attempts)
        .kv("error", error);
  }
  control::ChangeSet cs;
  if (e) cs.puts.push_back({EventKey(e->id), EventJson(*e)});
  if (ok || give_up) {
    cs.deletes.push_back(key);
    Status st = store_.Commit(cs);
    if (!st.ok()) log::Error("alert_write_failed").kv("key", key).kv("detail", st.message());
    outbox_.erase(key);
    return ArmOutbox();
  }
  int64_t backoff = cfg->alerts.retry_min.count();
  for (uint32_t i = 1; i < item.attempts && backoff < cfg->alerts.retry_max.count(); ++i)
    backoff *= 2;
  item.next_ms = now + std::min<int64_t>(backoff, cfg->alerts.retry_max.count());
  cs.puts.push_back({key, OutboxJson(item)});
  store_.PutUnsynced(cs.puts);
  Schedule(key, item);
  ArmOutbox();
}

}  // namespace sw::alerts
