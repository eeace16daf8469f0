// Owns the asio-driven HTTP/1.1 client: libcurl's multi socket API on the caller's io_context.
// Fails by value: HttpResponse carries the curl error, timeout, cancellation or stop.
#include "common/asio_http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/http_transfer.h"

namespace sw::http {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

using Handler = asio::any_completion_handler<void(HttpResponse)>;

// Tells the engines on one execution context that it is being destroyed. Registered after the
// reactor, timer and descriptor services (an engine creates its io objects first), so it is
// shut down before them: the engines release their sockets while the reactor still exists.
class ContextHook : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;
  explicit ContextHook(asio::execution_context& context) : service(context) {}
  std::vector<AsioHttpClient::Engine*> engines;

 private:
  void shutdown() override;
};

// One request: the shared easy-handle setup plus the awaiting coroutine's handler.
struct Pending : CurlTransfer {
  // Boost 1.81's any_completion_handler recurses forever in its move assignment (and when
  // copied from an lvalue): only ever move-constructed, hence the optional.
  std::optional<Handler> handler;
  asio::any_io_executor work;  // the handler's executor, with outstanding work tracked
};

}  // namespace

// Every member is touched only on the execution context's thread: no locks.
class AsioHttpClient::Engine : public std::enable_shared_from_this<Engine> {
 public:
  Engine(const asio::any_io_executor& ex, uint32_t max_connections);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  bool open() const { return multi_ != nullptr; }
  bool idle() const { return active_.empty(); }
  asio::execution_context* context() const { return context_; }
  // Adds `t` to curl, or completes it at once with why not.
  void Start(std::unique_ptr<Pending> t);
  // Fails every transfer with `why`, frees curl and the io objects. Idempotent.
  void Close(const std::string& why);
  // The execution context is going away (ContextHook).
  void Detach();

 private:
  // One socket curl asked us to watch. `gen` tells a stale wait (an fd number reused).
  struct Watch {
    explicit Watch(const asio::any_io_executor& ex) : desc(ex) {}
    asio::posix::stream_descriptor desc;  // released, never closed: curl owns the fd
    int want = 0;                         // CURL_POLL_IN / CURL_POLL_OUT bits
    bool reading = false, writing = false;
    uint64_t gen = 0;
  };

  static int OnSocket(CURL* easy, curl_socket_t s, int what, void* self, void* socketp);
  static int OnTimer(CURLM* multi, long timeout_ms, void* self);
  void ArmTimer(std::chrono::steady_clock::time_point due);
  void OnTimerFired();
  void Unwatch(curl_socket_t s);
  void Arm(curl_socket_t s, Watch& w);
  void Wait(curl_socket_t s, Watch& w, bool read);
  void OnReady(curl_socket_t s, uint64_t gen, bool read, error_code ec);
  void Act(curl_socket_t s, int flags);
  void Collect();
  void Cancel(Pending* t);
  void Complete(Pending* t, HttpResponse r, bool from_slot);
  static void Deliver(std::unique_ptr<Pending> t, HttpResponse r);

  asio::any_io_executor ex_;
  asio::execution_context* context_;
  ContextHook* hook_ = nullptr;
  CURLM* multi_ = nullptr;
  std::optional<asio::steady_timer> timer_;
  bool timer_armed_ = false;  // a wait is pending on timer_ (at or before due_)
  std::optional<std::chrono::steady_clock::time_point> due_;  // curl's timeout, if any
  std::unordered_map<curl_socket_t, std::unique_ptr<Watch>> watches_;
  std::unordered_map<Pending*, std::unique_ptr<Pending>> active_;
  uint64_t next_gen_ = 1;
};

void ContextHook::shutdown() {
  std::vector<AsioHttpClient::Engine*> all;
  all.swap(engines);
  for (AsioHttpClient::Engine* e : all) e->Detach();
}

AsioHttpClient::Engine::Engine(const asio::any_io_executor& ex, uint32_t max_connections)
    : ex_(ex), context_(&asio::query(ex, asio::execution::context)) {
  timer_.emplace(ex_);
  { asio::posix::stream_descriptor probe(ex_); }  // the descriptor service, before the hook
  hook_ = &asio::use_service<ContextHook>(*context_);
  hook_->engines.push_back(this);
  CurlGlobalInit();
  multi_ = curl_multi_init();
  if (!multi_) return;
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Engine::OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Engine::OnTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(max_connections));
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(max_connections));
}

AsioHttpClient::Engine::~Engine() {
  Close("HTTP client stopped");
  if (hook_) std::erase(hook_->engines, this);
}

void AsioHttpClient::Engine::Detach() {
  hook_ = nullptr;  // the hook is going away with its context
  Close("HTTP client's io_context destroyed");
}

void AsioHttpClient::Engine::Close(const std::string& why) {
  if (multi_) {
    while (!active_.empty()) {
      Pending* t = active_.begin()->first;
      curl_multi_remove_handle(multi_, t->easy);
      Complete(t, CurlTransfer::Failure(why), false);
    }
    curl_multi_cleanup(multi_);  // closes cached connections (their REMOVE callbacks run)
    multi_ = nullptr;
  }
  for (auto& [s, w] : watches_) w->desc.release();
  watches_.clear();
  timer_.reset();
}

void AsioHttpClient::Engine::Start(std::unique_ptr<Pending> t) {
  if (!multi_) return Deliver(std::move(t), CurlTransfer::Failure("HTTP client stopped"));
  if (std::string why = t->Setup(); !why.empty())
    return Deliver(std::move(t), CurlTransfer::Failure(std::move(why)));
  Pending* raw = t.get();
  curl_easy_setopt(raw->easy, CURLOPT_PRIVATE, raw);
  auto slot = asio::get_associated_cancellation_slot(*raw->handler);
  if (slot.is_connected()) {
    slot.assign([weak = weak_from_this(), raw](asio::cancellation_type type) {
      if ((type & asio::cancellation_type::terminal) == asio::cancellation_type::none) return;
      if (auto e = weak.lock()) e->Cancel(raw);
    });
  }
  active_.emplace(raw, std::move(t));
  CURLMcode mc = curl_multi_add_handle(multi_, raw->easy);  // arms curl's timer: 0 ms
  if (mc != CURLM_OK) Complete(raw, CurlTransfer::Failure(curl_multi_strerror(mc)), false);
}

void AsioHttpClient::Engine::Cancel(Pending* t) {
  if (!multi_ || !active_.contains(t)) return;
  curl_multi_remove_handle(multi_, t->easy);  // closes its connection (REMOVE callback)
  HttpResponse r;
  r.timed_out = true;
  r.error = "cancelled (deadline)";
  Complete(t, std::move(r), true);
}

// Frees the transfer (already out of curl) and posts its result to the awaiting coroutine.
void AsioHttpClient::Engine::Complete(Pending* t, HttpResponse r, bool from_slot) {
  auto it = active_.find(t);
  if (it == active_.end()) return;
  std::unique_ptr<Pending> owned = std::move(it->second);
  active_.erase(it);
  if (!from_slot) {  // a slot's handler is never cleared from inside itself
    auto slot = asio::get_associated_cancellation_slot(*owned->handler);
    if (slot.is_connected()) slot.clear();
  }
  Deliver(std::move(owned), std::move(r));
}

void AsioHttpClient::Engine::Deliver(std::unique_ptr<Pending> t, HttpResponse r) {
  Handler h = std::move(*t->handler);
  asio::any_io_executor work = std::move(t->work);
  t.reset();  // the easy handle goes now, not when the coroutine resumes
  // A lambda, not asio::append (which copies the handler from an lvalue: see Pending).
  asio::post(work, [h = std::move(h), r = std::move(r)]() mutable { std::move(h)(std::move(r)); });
}

int AsioHttpClient::Engine::OnSocket(CURL*, curl_socket_t s, int what, void* self, void*) {
  auto* e = static_cast<Engine*>(self);
  if (what == CURL_POLL_REMOVE) {
    e->Unwatch(s);
    return 0;
  }
  std::unique_ptr<Watch>& w = e->watches_[s];
  if (!w) {
    w = std::make_unique<Watch>(e->ex_);
    w->gen = e->next_gen_++;
    error_code ec;
    w->desc.assign(s, ec);
    if (ec) {
      e->watches_.erase(s);
      return -1;  // curl fails the transfers on this socket
    }
  }
  w->want = what;
  e->Arm(s, *w);
  return 0;
}

// curl's single timeout. Moving it later does not touch the armed wait (the common case: each
// step of a transfer pushes its deadline on); the wait fires early and is armed again.
int AsioHttpClient::Engine::OnTimer(CURLM*, long timeout_ms, void* self) {
  auto* e = static_cast<Engine*>(self);
  if (!e->timer_) return 0;
  e->due_.reset();
  if (timeout_ms < 0) {
    e->timer_->cancel();  // nothing left on the io_context: run() may return
    e->timer_armed_ = false;
    return 0;
  }
  if (timeout_ms == 0) {  // "now": a post, without a trip through the reactor's timer
    asio::post(e->ex_, [weak = e->weak_from_this()] {
      if (auto engine = weak.lock()) engine->Act(CURL_SOCKET_TIMEOUT, 0);
    });
    return 0;
  }
  auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  e->due_ = due;
  if (!e->timer_armed_ || e->timer_->expiry() > due) e->ArmTimer(due);
  return 0;
}

void AsioHttpClient::Engine::ArmTimer(std::chrono::steady_clock::time_point due) {
  timer_armed_ = true;
  timer_->expires_at(due);
  timer_->async_wait([weak = weak_from_this()](error_code ec) {
    if (ec) return;  // cancelled: re-armed or no longer wanted
    if (auto e = weak.lock()) e->OnTimerFired();
  });
}

void AsioHttpClient::Engine::OnTimerFired() {
  timer_armed_ = false;
  if (!due_ || !timer_) return;  // replaced by "now" (already posted) or closed
  if (std::chrono::steady_clock::now() < *due_) return ArmTimer(*due_);
  due_.reset();
  Act(CURL_SOCKET_TIMEOUT, 0);
}

void AsioHttpClient::Engine::Unwatch(curl_socket_t s) {
  auto it = watches_.find(s);
  if (it == watches_.end()) return;
  it->second->desc.release();  // its waits end with operation_aborted; curl closes the fd
  watches_.erase(it);
}

void AsioHttpClient::Engine::Arm(curl_socket_t s, Watch& w) {
  if ((w.want & CURL_POLL_IN) && !w.reading) Wait(s, w, true);
  if ((w.want & CURL_POLL_OUT) && !w.writing) Wait(s, w, false);
}

void AsioHttpClient::Engine::Wait(curl_socket_t s, Watch& w, bool read) {
  (read ? w.reading : w.writing) = true;
  auto type =
      read ? asio::posix::stream_descriptor::wait_read : asio::posix::stream_descriptor::wait_write;
  w.desc.async_wait(type, [weak = weak_from_this(), s, gen = w.gen, read](error_code ec) {
    if (auto e = weak.lock()) e->OnReady(s, gen, read, ec);
  });
}

void AsioHttpClient::Engine::OnReady(curl_socket_t s, uint64_t gen, bool read, error_code ec) {
  auto it = watches_.find(s);
  if (it == watches_.end() || it->second->gen != gen) return;  // released, or a reused fd
  Watch& w = *it->second;
  (read ? w.reading : w.writing) = false;
  if (ec == asio::error::operation_aborted) return;
  int flag = read ? CURL_CSELECT_IN : CURL_CSELECT_OUT;
  if (ec) {
    flag = CURL_CSELECT_ERR;
  } else if (!(w.want & (read ? CURL_POLL_IN : CURL_POLL_OUT))) {
    return;  // curl no longer waits for this direction
  }
  Act(s, flag);
  it = watches_.find(s);  // curl may have removed or replaced the socket meanwhile
  if (it != watches_.end() && it->second->gen == gen) Arm(s, *it->second);
}

void AsioHttpClient::Engine::Act(curl_socket_t s, int flags) {
  if (!multi_) return;
  int running = 0;
  curl_multi_socket_action(multi_, s, flags, &running);
  Collect();
}

void AsioHttpClient::Engine::Collect() {
  int left = 0;
  while (CURLMsg* msg = multi_ ? curl_multi_info_read(multi_, &left) : nullptr) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    CURLcode rc = msg->data.result;
    Pending* t = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
    curl_multi_remove_handle(multi_, easy);
    if (t) Complete(t, t->Finish(rc), false);
  }
}

AsioHttpClient::AsioHttpClient(uint32_t max_connections) : max_connections_(max_connections) {}

AsioHttpClient::~AsioHttpClient() { Stop(); }

void AsioHttpClient::Stop() {
  stopped_ = true;
  if (engine_) engine_->Close("HTTP client stopped");
  engine_.reset();
}

boost::asio::awaitable<HttpResponse> AsioHttpClient::Post(HttpRequest request) {
  request.method = "POST";
  return Send(std::move(request));
}

boost::asio::awaitable<HttpResponse> AsioHttpClient::Send(HttpRequest request) {
  asio::any_io_executor ex = co_await asio::this_coro::executor;
  asio::execution_context* context = &asio::query(ex, asio::execution::context);
  if (stopped_) co_return CurlTransfer::Failure("HTTP client stopped");
  if (!engine_ || !engine_->open() || engine_->context() != context) {
    if (engine_ && engine_->open() && !engine_->idle())
      co_return CurlTransfer::Failure("HTTP client busy on another io_context");
    engine_.reset();  // an idle engine of another context, or one whose context is gone
    engine_ = std::make_shared<Engine>(ex, max_connections_);
    if (!engine_->open()) co_return CurlTransfer::Failure("curl_multi_init failed");
  }
  auto t = std::make_unique<Pending>();
  t->request = std::move(request);
  auto init = [engine = engine_, t = std::move(t)](auto handler) mutable {
    t->work = asio::prefer(asio::get_associated_executor(handler),
                           asio::execution::outstanding_work.tracked);
    t->handler.emplace(std::move(handler));
    engine->Start(std::move(t));
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(HttpResponse)>(
      std::move(init), asio::use_awaitable);
}

}  // namespace sw::http
