// Owns delivery to a domain found by MX lookup (a sender's domain for DSNs): resolves on a
// worker thread, caches the answer, delegates to an SmtpDestination. Fails by result.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "routing/destination.h"
#include "routing/mx_lookup.h"

namespace sw::routing {

class MxDestination : public Destination {
 public:
  using Resolver = std::function<MxAnswer(const std::string& domain)>;
  // `port` is 25 in production (tests use another). `resolver` runs on a worker thread.
  MxDestination(boost::asio::any_io_executor ex, std::string hostname, std::string domain,
                const config::DeliveryConfig& delivery, Resolver resolver = LookupMx,
                uint16_t port = 25);
  ~MxDestination() override;

  boost::asio::awaitable<DeliveryResult> Deliver(const OutboundMessage& msg) override;
  boost::asio::awaitable<ProbeResult> Probe() override;
  void Close() override;

 private:
  // Resolves (or reuses a fresh answer) and rebuilds the inner destination when it changed.
  boost::asio::awaitable<std::string> Refresh();

  boost::asio::any_io_executor ex_;
  std::string hostname_;
  std::string domain_;
  config::DeliveryConfig delivery_;
  Resolver resolver_;
  uint16_t port_;
  boost::asio::thread_pool pool_{1};
  MxAnswer answer_;
  std::chrono::steady_clock::time_point expires_{};
  std::unique_ptr<Destination> inner_;
  std::vector<std::unique_ptr<Destination>> retired_;
};

}  // namespace sw::routing
