// Owns delivery to a domain found by MX lookup (a sender's domain for DSNs): resolves on a
// worker thread, caches the answer, delegates to an SmtpDestination. Fails by result.
#include "routing/mx_destination.h"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"
#include "routing/smtp_destination.h"

namespace sw::routing {

namespace asio = boost::asio;

namespace {
constexpr auto kAnswerTtl = std::chrono::minutes(5);
constexpr auto kErrorTtl = std::chrono::seconds(30);
}  // namespace

MxDestination::MxDestination(asio::any_io_executor ex, std::string hostname, std::string domain,
                             const config::DeliveryConfig& delivery, Resolver resolver,
                             uint16_t port)
    : ex_(std::move(ex)),
      hostname_(std::move(hostname)),
      domain_(std::move(domain)),
      delivery_(delivery),
      resolver_(std::move(resolver)),
      port_(port) {}

MxDestination::~MxDestination() { pool_.join(); }

void MxDestination::Close() {
  if (inner_) inner_->Close();
}

asio::awaitable<std::string> MxDestination::Refresh() {
  if (std::chrono::steady_clock::now() < expires_) co_return answer_.error;
  // The blocking lookup runs on our worker thread; the answer comes back on ex_.
  auto lookup = [this](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    asio::post(pool_, [this, h] {
      MxAnswer a = resolver_(domain_);
      asio::post(ex_, [h, a = std::move(a)]() mutable { (*h)(std::move(a)); });
    });
  };
  MxAnswer a = co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(MxAnswer)>(
      lookup, asio::use_awaitable);
  expires_ = std::chrono::steady_clock::now() + (a.error.empty() ? kAnswerTtl : kErrorTtl);
  if (a.error.empty() && !a.null_mx && a.hosts != answer_.hosts) {
    std::vector<config::Destination> dests;
    for (const auto& h : a.hosts) {
      config::Destination d;
      d.host = h;
      d.port = port_;
      dests.push_back(d);
    }
    if (inner_) {
      inner_->Close();
      retired_.push_back(std::move(inner_));
    }
    inner_ = std::make_unique<SmtpDestination>(
        ex_, hostname_, std::move(dests), config::TlsPolicy::kOpportunistic, delivery_, domain_);
    log::Info("mx_resolved")
        .kv("domain", domain_)
        .kv("hosts", a.hosts.size())
        .kv("first", a.hosts.front());
  }
  answer_ = std::move(a);
  co_return answer_.error;
}

asio::awaitable<DeliveryResult> MxDestination::Deliver(const OutboundMessage& msg) {
  std::string err = co_await Refresh();
  DeliveryResult r;
  if (answer_.null_mx) {
    // Permanent: the domain publishes no mail server (or does not exist).
    r.reached = true;
    r.destination = domain_;
    SmtpReply rep{556, "5.1.10", "recipient domain " + domain_ + " accepts no mail"};
    r.recipients.assign(msg.recipients.size(), rep);
    co_return r;
  }
  if (!err.empty() || !inner_) {
    r.error = err.empty() ? "no mail server for " + domain_ : err;
    co_return r;
  }
  co_return co_await inner_->Deliver(msg);
}

asio::awaitable<ProbeResult> MxDestination::Probe() {
  std::string err = co_await Refresh();
  ProbeResult p;
  if (!err.empty() || !inner_) {
    p.error = err.empty() ? "no mail server for " + domain_ : err;
    co_return p;
  }
  co_return co_await inner_->Probe();
}

}  // namespace sw::routing
