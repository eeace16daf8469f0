// Owns recipient verification by callout (SPEC section 3): the answer cache, coalescing of
// identical lookups and the per-domain concurrency limit. Fails open: no answer is "unknown".
#include "gateway/recipient_callout.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <chrono>
#include <list>
#include <map>
#include <unordered_map>
#include <vector>

#include "common/header_text.h"
#include "common/log.h"
#include "common/metrics.h"

namespace sw::gateway {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Verdict = RecipientCallout::Verdict;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// spamweeder_callouts_total{result}: one per callout made, and one per RCPT answered without
// one (cached_valid, cached_invalid, skipped_down, skipped_busy).
void Count(std::string_view result) {
  metrics::Global()
      .AddCounter("spamweeder_callouts_total",
                  "Recipient verification callouts and RCPTs answered without one, by result",
                  {{"result", std::string(result)}})
      .Inc();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Identifies the destinations a domain's callout goes to (rebuilt when it changes).
std::string Signature(const config::DomainConfig& d) {
  std::string s = std::to_string(static_cast<int>(d.tls));
  for (const auto& x : d.destinations) s.append("|").append(x.ToString());
  return s;
}

}  // namespace

struct RecipientCallout::State {
  struct Cached {
    bool valid = false;
    Clock::time_point expires;
    std::list<std::string>::iterator order;
  };
  struct Inflight {
    bool finished = false;
    Verdict verdict = Verdict::kUnknown;
    std::vector<std::shared_ptr<asio::steady_timer>> waiters;
  };
  struct Target {
    std::string signature;
    std::shared_ptr<routing::Destination> dest;
  };

  asio::any_io_executor ex;
  Factory factory;
  DownFn down;
  std::unordered_map<std::string, Cached> cache;  // key: domain "\n" lower-cased address
  std::list<std::string> order;                   // cache keys, oldest first
  std::unordered_map<std::string, std::shared_ptr<Inflight>> inflight;
  std::map<std::string, uint32_t> active;  // callouts in flight per domain
  std::map<std::string, Target> targets;

  const Cached* Lookup(const std::string& key) {
    auto it = cache.find(key);
    if (it == cache.end()) return nullptr;
    if (Clock::now() < it->second.expires) return &it->second;
    order.erase(it->second.order);
    cache.erase(it);
    return nullptr;
  }

  void Store(const std::string& key, bool valid, config::Duration ttl, size_t max_entries) {
    auto it = cache.find(key);
    if (it != cache.end()) {
      order.erase(it->second.order);
      cache.erase(it);
    }
    order.push_back(key);
    cache[key] = Cached{valid, Clock::now() + ttl, std::prev(order.end())};
    while (cache.size() > max_entries && !order.empty()) {
      cache.erase(order.front());
      order.pop_front();
    }
  }

  std::shared_ptr<routing::Destination> DestinationFor(const config::DomainConfig& d) {
    Target& t = targets[d.name];
    std::string sig = Signature(d);
    if (!t.dest || t.signature != sig) {
      if (t.dest) t.dest->Close();
      t.dest = factory(d);
      t.signature = std::move(sig);
    }
    return t.dest;
  }
};

namespace {

struct Job {
  std::string key, domain, address;
  uint64_t session = 0;
  config::CalloutConfig settings;
};

asio::awaitable<void> RunCallout(std::shared_ptr<RecipientCallout::State> st,
                                 std::shared_ptr<routing::Destination> dest,
                                 std::shared_ptr<RecipientCallout::State::Inflight> flight,
                                 Job job) {
  auto start = Clock::now();
  routing::VerifyResult vr = co_await dest->Verify(job.address, job.settings.timeout);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  Verdict verdict = Verdict::kUnknown;
  const char* result = "unknown";
  if (vr.answered && vr.reply.positive()) {
    verdict = Verdict::kValid;
    result = "valid";
    st->Store(job.key, true, job.settings.valid_for, job.settings.max_entries);
  } else if (vr.answered && vr.reply.permanent()) {
    verdict = Verdict::kInvalid;
    result = "invalid";
    st->Store(job.key, false, job.settings.invalid_for, job.settings.max_entries);
  }
  std::string reply =
      vr.reply.code != 0 ? std::to_string(vr.reply.code) + " " + vr.reply.text : vr.reply.text;
  if (!vr.answered && !vr.error.empty()) reply = vr.error;
  Count(result);
  log::Info("callout")
      .kv("session", job.session)
      .kv("domain", job.domain)
      .kv("rcpt", HeaderText(job.address))
      .kv("result", result)
      .kv("destination", vr.destination)
      .kv("reply", HeaderText(reply))
      .kv("ms", static_cast<long long>(ms));
  flight->finished = true;
  flight->verdict = verdict;
  for (auto& w : flight->waiters) w->cancel();
  st->inflight.erase(job.key);
  auto it = st->active.find(job.domain);
  if (it != st->active.end() && --it->second == 0) st->active.erase(it);
}

}  // namespace

RecipientCallout::RecipientCallout(asio::any_io_executor ex, Factory factory, DownFn down)
    : state_(std::make_shared<State>()) {
  state_->ex = ex;
  state_->factory = std::move(factory);
  state_->down = std::move(down);
}

RecipientCallout::~RecipientCallout() { Clear(); }

size_t RecipientCallout::cache_size() const { return state_->cache.size(); }

void RecipientCallout::Clear() {
  state_->cache.clear();
  state_->order.clear();
  for (auto& [name, t] : state_->targets)
    if (t.dest) t.dest->Close();
  state_->targets.clear();
}

asio::awaitable<Verdict> RecipientCallout::Check(const config::CalloutConfig& settings,
                                                 const config::DomainConfig& domain,
                                                 const std::string& address, uint64_t session) {
  std::shared_ptr<State> st = state_;
  std::string key = domain.name + "\n" + Lower(address);
  if (const State::Cached* c = st->Lookup(key)) {
    Count(c->valid ? "cached_valid" : "cached_invalid");
    co_return c->valid ? Verdict::kValid : Verdict::kInvalid;
  }
  auto skip = [&](const char* result) {
    Count(result);
    log::Info("callout")
        .kv("session", session)
        .kv("domain", domain.name)
        .kv("rcpt", HeaderText(address))
        .kv("result", result);
  };
  if (st->down && st->down(domain.name)) {
    skip("skipped_down");
    co_return Verdict::kUnknown;
  }
  std::shared_ptr<State::Inflight> flight;
  if (auto it = st->inflight.find(key); it != st->inflight.end()) {
    flight = it->second;  // the same lookup is running: share its answer
  } else {
    uint32_t& active = st->active[domain.name];
    if (active >= settings.max_concurrent) {
      skip("skipped_busy");
      co_return Verdict::kUnknown;
    }
    ++active;
    flight = std::make_shared<State::Inflight>();
    st->inflight.emplace(key, flight);
    Job job{key, domain.name, address, session, settings};
    asio::co_spawn(st->ex, RunCallout(st, st->DestinationFor(domain), flight, std::move(job)),
                   asio::detached);
  }
  if (flight->finished) co_return flight->verdict;
  auto timer = std::make_shared<asio::steady_timer>(st->ex);
  timer->expires_after(settings.timeout);
  flight->waiters.push_back(timer);
  co_await timer->async_wait(kTuple);
  if (!flight->finished) {
    log::Info("callout_timeout")
        .kv("session", session)
        .kv("domain", domain.name)
        .kv("rcpt", HeaderText(address))
        .kv("ms", static_cast<long long>(settings.timeout.count()));
  }
  co_return flight->finished ? flight->verdict : Verdict::kUnknown;
}

}  // namespace sw::gateway
