// Owns the threaded HTTP/1.1 client: libcurl's multi interface on one dedicated thread.
// Fails by value: HttpResponse carries the curl error or timeout; never blocks an I/O thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sw::http {

struct HttpRequest {
  std::string method = "POST";       // "POST" or "GET" (a GET sends no body); others fail
  std::string url;                   // http:// or https:// (peer and host are always verified)
  std::string unix_socket;           // non-empty: connect to this unix socket, not url's host
  std::vector<std::string> headers;  // "Name: value"
  std::string content_type;          // POST only; empty: no Content-Type header
  std::shared_ptr<const std::string> body;   // POSTed as is (null: empty), kept alive until done
  std::string basic_user, basic_password;    // HTTP basic auth when basic_user is non-empty
  std::chrono::milliseconds timeout{20000};  // whole transfer, connect included
};

struct HttpResponse {
  bool ok = false;         // a complete HTTP response arrived (any status)
  bool timed_out = false;  // curl's timeout, or the caller cancelled the wait
  long status = 0;
  std::string body;
  std::string error;
};

class HttpClient {
 public:
  // `max_connections`: parallel connections per host (more requests queue inside curl) and
  // the size of the keep-alive cache.
  explicit HttpClient(uint32_t max_connections);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Completes on the caller's executor. Cancelling the wait aborts the transfer.
  boost::asio::awaitable<HttpResponse> Send(HttpRequest request);
  // Send with the method forced to POST.
  boost::asio::awaitable<HttpResponse> Post(HttpRequest request);
  // For a plain thread (no io_context): the same curl thread does the transfer while the
  // caller waits. Returns an error response when called on the curl thread itself.
  HttpResponse SendBlocking(HttpRequest request);
  // Fails every transfer in flight, joins the thread. Idempotent; the destructor calls it.
  void Stop();

 private:
  struct Transfer;
  void Run();
  uint64_t Submit(std::unique_ptr<Transfer> t);  // 0 when stopped (then already failed)
  void Cancel(uint64_t id);

  void* multi_ = nullptr;  // CURLM*
  std::mutex mu_;
  std::deque<std::unique_ptr<Transfer>> incoming_;
  std::vector<uint64_t> cancelled_;
  bool stop_ = false;
  uint64_t next_id_ = 1;
  std::thread thread_;
  std::thread::id curl_thread_;  // set once by the constructor
};

}  // namespace sw::http
