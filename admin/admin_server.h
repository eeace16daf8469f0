// Owns the admin HTTP/1.1 listener (Boost.Beast, coroutines): keep-alive, size limits, timeouts,
// HTTPS when given TLS contexts. Fails at Start by Status (cannot bind); at run time a bad
// request gets 400/413/431 and closes, a failed TLS handshake just closes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "admin/http_message.h"
#include "common/server_tls.h"
#include "common/status.h"
#include "config/config.h"

namespace sw::admin {

struct AdminServerOptions {
  size_t max_connections = 64;        // more are closed at once (logged)
  uint32_t header_limit = 16 * 1024;  // request line and fields: 431 above
  uint64_t body_limit = 1024 * 1024;  // request body: 413 above (SPEC section 10: 1 MiB)
  // Reading one request, including the idle time before it on a kept-alive connection.
  std::chrono::milliseconds read_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds write_timeout = std::chrono::seconds(30);
  // Non-null: every connection is HTTPS (admin.tls), certificate chosen by SNI.
  std::shared_ptr<ServerTls> tls;
};

// Serves every connection on `io` (the data plane's thread): the handler may use the relay
// queue directly. One request at a time per connection (no pipelining of responses needed:
// requests are read after the previous response was written).
class AdminServer {
 public:
  using Handler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest)>;

  AdminServer(boost::asio::io_context& io, config::ListenAddress listen, Handler handler,
              AdminServerOptions options = {});
  ~AdminServer();  // Stop()
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds `listen` (port 0: any free port) and logs `event=listening service=admin addr=IP:PORT`.
  Status Start();
  // Stops accepting and closes every connection (a request in flight loses its response).
  void Stop();
  // New connections use `tls` (a SIGHUP reload); open ones keep theirs. Call on the io thread.
  // Null is ignored: a listener never falls back from HTTPS to plain HTTP.
  void SetTls(std::shared_ptr<ServerTls> tls);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  size_t connections() const;

  struct State;

 private:
  config::ListenAddress listen_;
  std::shared_ptr<State> state_;
};

}  // namespace sw::admin
