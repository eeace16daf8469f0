// Owns delivery to a domain found by MX lookup (a sender's domain for DSNs): asks the shared
// MxResolver, delegates to an SmtpDestination for the hosts it names. Fails by result.
#include "routing/mx_destination.h"

#include "common/log.h"
#include "routing/smtp_destination.h"

namespace sw::routing {

namespace asio = boost::asio;

MxDestination::MxDestination(asio::any_io_executor ex, std::string hostname, std::string domain,
                             const config::DeliveryConfig& delivery,
                             std::shared_ptr<MxResolver> resolver, uint16_t port)
    : ex_(std::move(ex)),
      hostname_(std::move(hostname)),
      domain_(std::move(domain)),
      delivery_(delivery),
      resolver_(std::move(resolver)),
      port_(port) {}

MxDestination::~MxDestination() = default;

void MxDestination::Close() {
  if (inner_) inner_->Close();
  for (auto& r : retired_) r->Close();
}

asio::awaitable<std::string> MxDestination::Refresh() {
  MxAnswer a = co_await resolver_->Resolve(domain_);
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
