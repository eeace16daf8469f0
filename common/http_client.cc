// Owns the threaded HTTP/1.1 client: libcurl's multi interface on one dedicated thread.
// Fails by value: HttpResponse carries the curl error or timeout; never blocks an I/O thread.
#include "common/http_client.h"

#include <curl/curl.h>

#include <atomic>
#include <future>
#include <map>

#include "common/external_op.h"
#include "common/http_transfer.h"

namespace sw::http {

namespace {

// How long curl_multi_poll sleeps without events (curl_multi_wakeup ends it early).
constexpr int kPollMs = 1000;

}  // namespace

struct HttpClient::Transfer : CurlTransfer {
  uint64_t id = 0;
  Completer<HttpResponse> complete;

  ~Transfer() {
    // Every waiter gets an answer; ignored when one was given.
    complete(Failure("HTTP transfer dropped"));
  }
};

HttpClient::HttpClient(uint32_t max_connections) {
  CurlGlobalInit();
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
      curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t.get());
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
