// Owns recipient verification by callout (SPEC section 3): the answer cache, coalescing of
// identical lookups and the per-domain concurrency limit. Fails open: no answer is "unknown".
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "routing/destination.h"

namespace sw::gateway {

// Runs on the io_context thread of the SMTP sessions and the relay queue.
class RecipientCallout {
 public:
  enum class Verdict { kValid, kInvalid, kUnknown };
  using Factory = std::function<std::unique_ptr<routing::Destination>(const config::DomainConfig&)>;
  // True while the relay queue has `domain` down (no callout then, only the cache).
  using DownFn = std::function<bool(const std::string& domain)>;

  RecipientCallout(boost::asio::any_io_executor ex, Factory factory, DownFn down);
  ~RecipientCallout();
  RecipientCallout(const RecipientCallout&) = delete;
  RecipientCallout& operator=(const RecipientCallout&) = delete;

  // Verdict for `address` (local@domain as given) of `domain`: cached, or asked of the
  // domain's destinations (MAIL FROM:<> + RCPT) within `settings.timeout`. Identical lookups
  // in flight share one callout; past `max_concurrent` per domain the answer is unknown.
  // `session`: for the log lines.
  boost::asio::awaitable<Verdict> Check(const config::CalloutConfig& settings,
                                        const config::DomainConfig& domain,
                                        const std::string& address, uint64_t session);

  size_t cache_size() const;
  // Drops every cached answer and idle destination (tests, shutdown).
  void Clear();

  struct State;  // cache, lookups in flight, destinations (shared with running callouts)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace sw::gateway
