// Owns the bridge from work on a foreign thread (curl, ClamAV pool) to an awaiting coroutine.
// Fails soft: a cancelled wait completes at once with a given value; late results are dropped.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace sw {

// The completion side handed to the foreign thread: call it once with the result, from any
// thread. Later calls (and calls after a cancellation) are ignored. Cheap to copy.
template <typename T>
class Completer {
 public:
  Completer() = default;
  void operator()(T value) const {
    if (!state_) return;
    std::function<void(T)> deliver;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (state_->done) return;
      state_->done = true;
      deliver = std::move(state_->deliver);
    }
    deliver(std::move(value));
  }
  // True once a result was delivered or the wait was cancelled: the work may stop early.
  bool done() const {
    if (!state_) return true;
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->done;
  }

  struct State {
    std::mutex mu;
    bool done = false;
    std::function<void(T)> deliver;
  };
  explicit Completer(std::shared_ptr<State> s) : state_(std::move(s)) {}

 private:
  std::shared_ptr<State> state_;
};

// Starts foreign work with `start(Completer<T>)` and suspends until it completes. The handler
// runs on the awaiting coroutine's executor (posted, never inline on the foreign thread). On
// terminal cancellation `on_cancel()` is called on the awaiting executor and the wait ends at
// once with `cancelled`. Not a coroutine itself (GCC 12 mishandles lambda temporaries passed
// to coroutines): callers should keep their lambdas in named locals and co_await the result.
template <typename T, typename Start, typename OnCancel>
boost::asio::awaitable<T> AwaitExternal(Start start, OnCancel on_cancel, T cancelled) {
  namespace asio = boost::asio;
  auto init = [start = std::move(start), on_cancel = std::move(on_cancel),
               cancelled = std::move(cancelled)](auto handler) mutable {
    using Handler = decltype(handler);
    auto state = std::make_shared<typename Completer<T>::State>();
    auto slot = asio::get_associated_cancellation_slot(handler);
    auto ex = asio::prefer(asio::get_associated_executor(handler),
                           asio::execution::outstanding_work.tracked);
    auto held = std::make_shared<std::optional<Handler>>(std::move(handler));
    state->deliver = [held, ex, slot](T value) mutable {
      asio::post(ex, [held, slot, value = std::move(value)]() mutable {
        if (!held->has_value()) return;
        Handler h = std::move(**held);
        held->reset();
        if (slot.is_connected()) slot.clear();
        std::move(h)(std::move(value));
      });
    };
    Completer<T> complete(state);
    if (slot.is_connected()) {
      slot.assign([complete, on_cancel, cancelled](asio::cancellation_type type) mutable {
        if ((type & asio::cancellation_type::terminal) == asio::cancellation_type::none) return;
        on_cancel();
        complete(cancelled);
      });
    }
    start(complete);
  };
  return asio::async_initiate<decltype(asio::use_awaitable), void(T)>(std::move(init),
                                                                      asio::use_awaitable);
}

}  // namespace sw
