// Owns the bridge from QueueStore callbacks (store threads) to Asio coroutines.
// Fails by Status only; the awaiting coroutine resumes on its own executor.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "queue/queue_store.h"

namespace sw::queue {

// `start(done)` must call the store with `done` as its completion callback.
template <typename Start>
boost::asio::awaitable<Status> AwaitStore(Start start) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(Status)>(
      [start = std::move(start)](auto handler) mutable {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        start([h](Status s) {
          auto ex = boost::asio::get_associated_executor(*h);
          boost::asio::post(ex, [h, s = std::move(s)]() mutable { (*h)(std::move(s)); });
        });
      },
      boost::asio::use_awaitable);
}

inline boost::asio::awaitable<std::tuple<Status, std::shared_ptr<const std::string>>> AwaitBody(
    QueueStore& store, const std::string& id) {
  using Body = std::shared_ptr<const std::string>;
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(Status, Body)>(
      [&store, id](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        store.ReadBody(id, [h](Status s, Body b) {
          auto ex = boost::asio::get_associated_executor(*h);
          boost::asio::post(ex, [h, s = std::move(s), b = std::move(b)]() mutable {
            (*h)(std::move(s), std::move(b));
          });
        });
      },
      boost::asio::use_awaitable);
}

// One page of envelopes read by QueueStore::ReadDomain / ReadQueue / ReadEnvelope.
struct EnvelopePage {
  Status status;
  std::vector<Envelope> envs;
  std::string last;  // last ID visited
  bool end = true;   // nothing after `last`
};

// `start(done)` must call a store read with `done` as its QueueStore::EnvelopesDone.
template <typename Start>
boost::asio::awaitable<EnvelopePage> AwaitPage(Start start) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(EnvelopePage)>(
      [start = std::move(start)](auto handler) mutable {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        start([h](Status s, std::vector<Envelope> envs, std::string last, bool end) {
          auto ex = boost::asio::get_associated_executor(*h);
          EnvelopePage page{std::move(s), std::move(envs), std::move(last), end};
          boost::asio::post(ex, [h, page = std::move(page)]() mutable { (*h)(std::move(page)); });
        });
      },
      boost::asio::use_awaitable);
}

// `start(done)` must call QueueStore::ReadDue with `done` as its callback.
template <typename Start>
boost::asio::awaitable<DuePage> AwaitDue(Start start) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(DuePage)>(
      [start = std::move(start)](auto handler) mutable {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        start([h](DuePage page) {
          auto ex = boost::asio::get_associated_executor(*h);
          boost::asio::post(ex, [h, page = std::move(page)]() mutable { (*h)(std::move(page)); });
        });
      },
      boost::asio::use_awaitable);
}

}  // namespace sw::queue
