// Owns the asio-driven HTTP/1.1 client: libcurl's multi socket API on the caller's io_context.
// Fails by value: HttpResponse carries the curl error, timeout, cancellation or stop.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>

#include "common/http_client.h"

namespace sw::http {

// No thread of its own: curl's sockets are watched and its timeout is kept by the io_context
// that runs the awaiting coroutine. All calls must come from that io_context's one thread (or
// while it is not running): the gateway and `spamweeder scan` each run a single-threaded one.
class AsioHttpClient {
 public:
  // `max_connections`: parallel connections per host (more requests queue inside curl) and
  // the size of the keep-alive cache.
  explicit AsioHttpClient(uint32_t max_connections);
  ~AsioHttpClient();
  AsioHttpClient(const AsioHttpClient&) = delete;
  AsioHttpClient& operator=(const AsioHttpClient&) = delete;

  // Completes on the caller's executor. Cancelling the wait removes the transfer at once. The
  // client binds to the first caller's execution context; another context is used only once
  // the first has no transfer in flight (or was destroyed), else the request fails.
  boost::asio::awaitable<HttpResponse> Send(HttpRequest request);
  // Send with the method forced to POST.
  boost::asio::awaitable<HttpResponse> Post(HttpRequest request);
  // Fails every transfer in flight; later requests fail at once. Idempotent; the destructor
  // calls it. Destroying the io_context first drops the transfers in flight instead.
  void Stop();

  class Engine;  // one curl multi handle on one execution context (internal)

 private:
  uint32_t max_connections_;
  bool stopped_ = false;
  std::shared_ptr<Engine> engine_;
};

}  // namespace sw::http
