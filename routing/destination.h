// Owns the interface to a domain's mail servers: ordered destinations tried in turn.
// Fails by result, never by exception: an unreachable domain gives reached=false.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "routing/outbound_message.h"

namespace sw::routing {

// All calls run on the single-threaded io_context the object was created for.
class Destination {
 public:
  virtual ~Destination() = default;
  // Delivers one message, trying the destinations in order (SPEC section 5).
  virtual boost::asio::awaitable<DeliveryResult> Deliver(const OutboundMessage& msg) = 0;
  // Health probe: connect + EHLO + QUIT on each destination in order until one answers.
  virtual boost::asio::awaitable<ProbeResult> Probe() = 0;
  // Recipient callout: on the first destination that answers, EHLO, MAIL FROM:<>,
  // RCPT TO:<address>, QUIT, on a fresh connection; `timeout` bounds each connect and
  // command. The default (destinations that cannot tell, e.g. by MX) answers nothing.
  virtual boost::asio::awaitable<VerifyResult> Verify(const std::string& address,
                                                      std::chrono::milliseconds timeout) {
    (void)address;
    (void)timeout;
    VerifyResult r;
    r.error = "recipient verification not supported";
    co_return r;
  }
  // Closes idle pooled connections (shutdown).
  virtual void Close() = 0;
};

}  // namespace sw::routing
