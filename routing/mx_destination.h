// Owns delivery to a domain found by MX lookup (a sender's domain for DSNs): asks the shared
// MxResolver, delegates to an SmtpDestination for the hosts it names. Fails by result.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "routing/destination.h"
#include "routing/mx_lookup.h"
#include "routing/mx_resolver.h"

namespace sw::routing {

// Owns no thread: every lookup runs on the process's one MxResolver pool.
class MxDestination : public Destination {
 public:
  // `port` is 25 in production (tests use another).
  MxDestination(boost::asio::any_io_executor ex, std::string hostname, std::string domain,
                const config::DeliveryConfig& delivery, std::shared_ptr<MxResolver> resolver,
                uint16_t port = 25);
  ~MxDestination() override;

  boost::asio::awaitable<DeliveryResult> Deliver(const OutboundMessage& msg) override;
  boost::asio::awaitable<ProbeResult> Probe() override;
  // Closes the idle connections of the inner destinations (eviction, shutdown).
  void Close() override;

 private:
  // Resolves (a cached answer is free) and rebuilds the inner destination when it changed.
  boost::asio::awaitable<std::string> Refresh();

  boost::asio::any_io_executor ex_;
  std::string hostname_;
  std::string domain_;
  config::DeliveryConfig delivery_;
  std::shared_ptr<MxResolver> resolver_;
  uint16_t port_;
  MxAnswer answer_;
  std::unique_ptr<Destination> inner_;
  std::vector<std::unique_ptr<Destination>> retired_;
};

}  // namespace sw::routing
