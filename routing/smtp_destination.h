// Owns delivery to one domain's configured destinations: resolution, ordering, pooling, results.
// Fails by result: unreachable destinations give reached=false with the reasons; never throws.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "routing/destination.h"

namespace sw::routing {

class ConnectionPool;      // routing/connection_pool.h
struct SmtpClientOptions;  // routing/smtp_connection.h

// Delivers over SMTP to the destinations of one domain, in order (SPEC section 5).
// Single-threaded: all calls on the io_context of `ex`. The object must outlive every
// Deliver()/Probe() it started; Close() before destroying it drops idle connections.
class SmtpDestination : public Destination {
 public:
  // `hostname`: our name for EHLO. `domain`: for logs. IP addresses (bracketed or not) are
  // used as they are; names ("host", "[host]") are resolved to A/AAAA, never MX (answers are
  // cached for a minute; on a DNS failure the last good answer is kept).
  // `shared_pool`: connections shared with every other domain whose destination is the same
  // host, address and TLS policy (many hosted domains on one server: the server's connection
  // limit is max_connections_per_destination in total, as Postfix limits per nexthop). Null:
  // a pool of this destination's own.
  SmtpDestination(boost::asio::any_io_executor ex, std::string hostname,
                  std::vector<config::Destination> destinations, config::TlsPolicy tls,
                  const config::DeliveryConfig& delivery, std::string domain,
                  std::shared_ptr<ConnectionPool> shared_pool = nullptr);
  ~SmtpDestination() override;

  boost::asio::awaitable<DeliveryResult> Deliver(const OutboundMessage& msg) override;
  boost::asio::awaitable<ProbeResult> Probe() override;
  boost::asio::awaitable<VerifyResult> Verify(const std::string& address,
                                              std::chrono::milliseconds timeout) override;
  void Close() override;

  // Include routing/connection_pool.h to use it (tests, metrics).
  const ConnectionPool& pool() const { return *pool_; }
  const std::string& domain() const { return domain_; }

 private:
  using tcp = boost::asio::ip::tcp;
  using clock = std::chrono::steady_clock;

  // Resolved endpoints of one destination, shared so a refresh never invalidates a user.
  struct Endpoints {
    std::vector<tcp::endpoint> addrs;
    std::vector<std::string> keys;  // "ip:port" per address, the pool key
    std::string error;              // why there are none
  };
  struct Target {
    config::Destination dest;
    std::string label;  // "host:port" for results and logs
    std::shared_ptr<const Endpoints> endpoints;
    clock::time_point expires{};                          // numeric: never
    std::shared_ptr<boost::asio::steady_timer> inflight;  // set while a lookup runs
  };
  struct Attempt {
    bool done = false;  // the endpoint took the transaction: `result` is final
    std::string error;  // otherwise why not ("ip:port: reason")
  };

  boost::asio::awaitable<std::shared_ptr<const Endpoints>> Resolve(Target& t);
  boost::asio::awaitable<Attempt> TryEndpoint(const Target& t, const tcp::endpoint& ep,
                                              const std::string& key, const OutboundMessage& msg,
                                              DeliveryResult& result);

  boost::asio::any_io_executor ex_;
  std::string domain_;
  std::shared_ptr<const SmtpClientOptions> opts_;
  std::vector<Target> targets_;
  tcp::resolver resolver_;
  std::shared_ptr<ConnectionPool> pool_;
  bool shared_pool_ = false;  // keys are "tls|host|ip:port" there, "ip:port" in an own pool
};

}  // namespace sw::routing
