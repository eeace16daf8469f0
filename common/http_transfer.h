// Owns one curl easy handle set up from an HttpRequest: options, headers, capped body, result.
// Fails by value: Setup returns why a request cannot be sent; Finish turns curl's code into one.
#pragma once

#include <curl/curl.h>

#include <cstddef>
#include <string>

#include "common/http_client.h"

namespace sw::http {

// A reply larger than this is cut off and reported as a failure (rspamd replies are < 64 KiB).
inline constexpr size_t kMaxResponseBytes = 8u << 20;

// curl_global_init, once per process (every client calls it before its first curl handle).
void CurlGlobalInit();

// Shared by both HTTP clients (the threaded one and the asio-driven one): each keeps its own
// bookkeeping around it and sets CURLOPT_PRIVATE itself.
struct CurlTransfer {
  HttpRequest request;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  bool too_big = false;
  char error[CURL_ERROR_SIZE] = {};

  CurlTransfer() = default;
  CurlTransfer(const CurlTransfer&) = delete;
  CurlTransfer& operator=(const CurlTransfer&) = delete;
  ~CurlTransfer();

  // "" when the easy handle is ready, else why the request cannot be sent.
  std::string Setup();
  // The response for curl's result code (the body is moved out).
  HttpResponse Finish(CURLcode rc);
  // A failed response with `error` set.
  static HttpResponse Failure(std::string error);

 private:
  static size_t Write(char* data, size_t size, size_t n, void* user);
};

}  // namespace sw::http
