// Owns the relay queue's outward events (domain down/up, deliveries) for the alert engine and
// the usage counters. Called on the queue's thread; implementations must not block it.
#pragma once

#include <cstdint>
#include <string>

namespace sw::queue {

// What the queue knows about a domain's backlog when it reports an event.
struct Backlog {
  uint64_t messages = 0;          // waiting or in flight for this domain
  int64_t oldest_arrival_ms = 0;  // 0: none
};

class QueueObserver {
 public:
  virtual ~QueueObserver() = default;
  // The domain's destinations stopped answering (`restored`: it was down when the queue
  // stopped last time and is still treated as down after Load).
  virtual void DomainDown(const std::string& domain, int64_t at_ms, const std::string& error,
                          const Backlog& backlog, bool restored) = 0;
  // A probe or a delivery reached it again; `relay` answered.
  virtual void DomainUp(const std::string& domain, int64_t at_ms, const std::string& relay,
                        const Backlog& backlog) = 0;
  virtual void ProbeFailed(const std::string& domain, const std::string& error,
                           const Backlog& backlog) = 0;
  // One message delivered (to its recipients in `domain`); `remaining` after it.
  virtual void Delivered(const std::string& domain, uint64_t bytes, uint64_t remaining) = 0;
  virtual void Deferred(const std::string& domain) = 0;
};

}  // namespace sw::queue
