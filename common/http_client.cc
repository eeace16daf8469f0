// Owns the product's one HTTP/1.1 client: libcurl's multi interface on one dedicated thread.
// Fails by value: HttpResponse carries the curl error or timeout; never blocks an I/O thread.
#include "common/http_client.h"

#include <curl/curl.h>
#include <strings.h>

#include <atomic>
#include <cstring>
#include <future>
#include <map>

#include "common/external_op.h"

namespace sw::http {

namespace {

// A reply larger than this is cut off and reported as a failure (rspamd replies are < 64 KiB).
constexpr size_t kMaxResponseBytes = 8u << 20;
// How long curl_multi_poll sleeps without events (curl_multi_wakeup ends it early).
constexpr int kPollMs = 1000;

std::once_flag g_curl_init;

bool HasHeader(const std::vector<std::string>& headers, const char* name) {
  size_t n = strlen(name);
  for (const auto& h : headers)
    if (h.size() > n && h[n] == ':' && strncasecmp(h.c_str(), name, n) == 0) return true;
  return false;
}

}  // namespace

struct HttpClient::Transfer {
  uint64_t id = 0;
  HttpRequest request;
  Completer<HttpResponse> complete;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  bool too_big = false;
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    if (easy) curl_easy_cleanup(easy);
    if (headers) curl_slist_free_all(headers);
    HttpResponse dropped;  // every waiter gets an answer; ignored when one was given
    dropped.error = "HTTP transfer dropped";
    complete(std::move(dropped));
  }

  static size_t Write(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t len = size * n;
    if (t->body.size() + len > kMaxResponseBytes) {
      t->too_big = true;
      return 0;  // aborts the transfer
    }
    t->body.append(data, len);
    return len;
  }

  // "" when the easy handle is ready, else why the request cannot be sent.
  std::string Setup() {
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
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::Write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, ms);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, this);
    return "";
  }

  HttpResponse Finish(CURLcode rc) {
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
};

HttpClient::HttpClient(uint32_t max_connections) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURLM* multi = curl_multi_init();
  multi_ = multi;
  if (multi) {
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(max_connections));
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(max_connections));
  }
  thread_ = std::thread([this] { Run(); });
  curl_thread_ = thread_.get_id();
}

HttpClient::~HttpClient() {
  Stop();
  if (multi_) curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void HttpClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  if (multi_) curl_multi_wakeup(static_cast<CURLM*>(multi_));
  if (thread_.joinable()) thread_.join();
}

uint64_t HttpClient::Submit(std::unique_ptr<Transfer> t) {
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stop_ && multi_) {
      id = next_id_++;
      t->id = id;
      incoming_.push_back(std::move(t));
    }
  }
  if (id == 0) {
    HttpResponse r;
    r.error = multi_ ? "HTTP client stopped" : "curl_multi_init failed";
    t->complete(std::move(r));
    return 0;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  return id;
}

void HttpClient::Cancel(uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    cancelled_.push_back(id);
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

boost::asio::awaitable<HttpResponse> HttpClient::Post(HttpRequest request) {
  request.method = "POST";
  return Send(std::move(request));
}

HttpResponse HttpClient::SendBlocking(HttpRequest request) {
  if (std::this_thread::get_id() == curl_thread_) {
    HttpResponse r;
    r.error = "SendBlocking called on the HTTP client's own thread";
    return r;
  }
  auto promise = std::make_shared<std::promise<HttpResponse>>();
  std::future<HttpResponse> result = promise->get_future();
  auto state = std::make_shared<Completer<HttpResponse>::State>();
  state->deliver = [promise](HttpResponse r) { promise->set_value(std::move(r)); };
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->complete = Completer<HttpResponse>(std::move(state));
  Submit(std::move(t));  // completes exactly once: result, stop, or drop
  return result.get();
}

boost::asio::awaitable<HttpResponse> HttpClient::Send(HttpRequest request) {
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  // The id is known only once queued; the cancel hook reads it through this shared cell.
  auto id = std::make_shared<std::atomic<uint64_t>>(0);
  Transfer* raw = t.release();  // owned by Submit from here on
  auto start = [this, raw, id](Completer<HttpResponse> complete) {
    std::unique_ptr<Transfer> owned(raw);
    owned->complete = complete;
    id->store(Submit(std::move(owned)));
  };
  auto on_cancel = [this, id] {
    if (uint64_t v = id->load()) Cancel(v);
  };
  HttpResponse cancelled;
  cancelled.timed_out = true;
  cancelled.error = "cancelled (deadline)";
  HttpResponse r = co_await AwaitExternal<HttpResponse>(std::move(start), std::move(on_cancel),
                                                        std::move(cancelled));
  co_return r;
}

void HttpClient::Run() {
  CURLM* multi = static_cast<CURLM*>(multi_);
  if (!multi) return;
  std::map<uint64_t, std::unique_ptr<Transfer>> active;
  auto fail = [](Transfer& t, std::string why) {
    HttpResponse r;
    r.error = std::move(why);
    t.complete(std::move(r));
  };
  for (;;) {
    std::deque<std::unique_ptr<Transfer>> fresh;
    std::vector<uint64_t> cancel;
    bool stop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      fresh.swap(incoming_);
      cancel.swap(cancelled_);
      stop = stop_;
    }
    if (stop) {
      for (auto& t : fresh) fail(*t, "HTTP client stopped");
      break;
    }
    for (auto& t : fresh) {
      if (t->complete.done()) continue;  // cancelled before it started
      if (std::string why = t->Setup(); !why.empty()) {
        fail(*t, std::move(why));
        continue;
      }
      CURLMcode mc = curl_multi_add_handle(multi, t->easy);
      if (mc != CURLM_OK) {
        fail(*t, curl_multi_strerror(mc));
        continue;
      }
      uint64_t tid = t->id;
      active.emplace(tid, std::move(t));
    }
    for (uint64_t cid : cancel) {
      auto it = active.find(cid);
      if (it == active.end()) continue;
      curl_multi_remove_handle(multi, it->second->easy);
      active.erase(it);  // its waiter already completed with "cancelled"
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      CURLcode rc = msg->data.result;
      curl_multi_remove_handle(multi, msg->easy_handle);
      if (!t) continue;
      t->complete(t->Finish(rc));
      active.erase(t->id);
    }
    curl_multi_poll(multi, nullptr, 0, kPollMs, nullptr);
  }
  for (auto& [tid, t] : active) {
    curl_multi_remove_handle(multi, t->easy);
    fail(*t, "HTTP client stopped");
  }
  active.clear();
}

}  // namespace sw::http
