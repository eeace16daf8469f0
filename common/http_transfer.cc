// Owns one curl easy handle set up from an HttpRequest: options, headers, capped body, result.
// Fails by value: Setup returns why a request cannot be sent; Finish turns curl's code into one.
#include "common/http_transfer.h"

#include <strings.h>

#include <cstring>
#include <mutex>
#include <vector>

namespace sw::http {

namespace {

bool HasHeader(const std::vector<std::string>& headers, const char* name) {
  size_t n = strlen(name);
  for (const auto& h : headers)
    if (h.size() > n && h[n] == ':' && strncasecmp(h.c_str(), name, n) == 0) return true;
  return false;
}

std::once_flag g_curl_init;

}  // namespace

void CurlGlobalInit() {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CurlTransfer::~CurlTransfer() {
  if (easy) curl_easy_cleanup(easy);
  if (headers) curl_slist_free_all(headers);
}

size_t CurlTransfer::Write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<CurlTransfer*>(user);
  size_t len = size * n;
  if (t->body.size() + len > kMaxResponseBytes) {
    t->too_big = true;
    return 0;  // aborts the transfer
  }
  t->body.append(data, len);
  return len;
}

std::string CurlTransfer::Setup() {
  bool post = request.method == "POST";
  if (!post && request.method != "GET") return "unsupported HTTP method: " + request.method;
  easy = curl_easy_init();
  if (!easy) return "curl_easy_init failed";
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  long ms = static_cast<long>(request.timeout.count());
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_PROXY, "");  // never an http_proxy from the environment
  if (!request.unix_socket.empty())
    curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, request.unix_socket.c_str());
  // curl's defaults, stated so that no later edit turns them off.
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (post) {
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    if (!request.content_type.empty()) {
      headers = curl_slist_append(headers, ("Content-Type: " + request.content_type).c_str());
    } else if (!HasHeader(request.headers, "Content-Type")) {
      headers = curl_slist_append(headers, "Content-Type:");  // not curl's form default
    }
    static const std::string kEmpty;
    const std::string& data = request.body ? *request.body : kEmpty;
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, data.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(data.size()));
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  }
  if (!request.basic_user.empty()) {
    curl_easy_setopt(easy, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(easy, CURLOPT_USERNAME, request.basic_user.c_str());
    curl_easy_setopt(easy, CURLOPT_PASSWORD, request.basic_password.c_str());
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "SpamWeeder");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &CurlTransfer::Write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, ms);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
  return "";
}

HttpResponse CurlTransfer::Finish(CURLcode rc) {
  HttpResponse r;
  if (rc == CURLE_OK) {
    r.ok = true;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
    r.body = std::move(body);
    return r;
  }
  r.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
  if (too_big) {
    r.error = "response larger than " + std::to_string(kMaxResponseBytes) + " bytes";
  } else {
    r.error = error[0] ? error : curl_easy_strerror(rc);
  }
  return r;
}

HttpResponse CurlTransfer::Failure(std::string error) {
  HttpResponse r;
  r.error = std::move(error);
  return r;
}

}  // namespace sw::http
