// Owns bench/queue-scale's queue builder: writes N messages of SIZE bytes for DOMAIN straight
// into a queue store, as the daemon would have queued them (group-committed batches).
// Fails with exit status 1 and a message on stderr (store unopenable, a write failed).
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <string>

#include "queue/queue_id.h"
#include "queue/relay_queue.h"
#include "queue/rocksdb_queue_store.h"

int main(int argc, char** argv) {
  using namespace sw::queue;
  if (argc != 5) {
    std::fprintf(stderr, "usage: queue_fill QUEUE_PATH DOMAIN N SIZE\n");
    return 2;
  }
  std::string path = argv[1], domain = argv[2];
  long n = std::atol(argv[3]);
  size_t size = static_cast<size_t>(std::atol(argv[4]));
  sw::Status st;
  auto store = RocksDbQueueStore::Open(path, &st);
  if (!store) {
    std::fprintf(stderr, "queue_fill: %s\n", st.message().c_str());
    return 1;
  }
  std::string text =
      "From: sender@example.net\r\nTo: user@" + domain + "\r\nSubject: queued\r\n\r\n";
  text.resize(std::max(size, text.size() + 2), 'x');
  text.replace(text.size() - 2, 2, "\r\n");
  auto body = std::make_shared<const std::string>(std::move(text));
  QueueIdGenerator ids;
  std::atomic<long> failed{0};
  // Completions run on the store's writer thread: counted under a lock that outlives them.
  std::mutex mu;
  std::condition_variable cv;
  long left = 0;
  for (long done = 0; done < n;) {
    long chunk = std::min(5000L, n - done);
    {
      std::lock_guard lk(mu);
      left = chunk;
    }
    for (long i = 0; i < chunk; ++i) {
      Envelope e;
      e.id = ids.Next();
      e.arrival_ms = NowMs();
      e.sender = "sender@example.net";
      e.client_ip = "127.0.0.1";
      e.helo = "bench";
      e.size = body->size();
      e.recipients = {{"user@" + domain, domain, RcptState::kPending, ""}};
      store->Enqueue(e, body, [&](sw::Status s) {
        if (!s.ok()) ++failed;
        std::lock_guard lk(mu);
        if (--left == 0) cv.notify_all();
      });
    }
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return left == 0; });
    done += chunk;
  }
  if (failed > 0) {
    std::fprintf(stderr, "queue_fill: %ld writes failed\n", failed.load());
    return 1;
  }
  return 0;
}
