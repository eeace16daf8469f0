// Owns the interface to a domain's mail servers: ordered destinations tried in turn.
// Fails by result, never by exception: an unreachable domain gives reached=false.
#pragma once

#include <boost/asio/awaitable.hpp>
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
  // Closes idle pooled connections (shutdown).
  virtual void Close() = 0;
};

}  // namespace sw::routing
