// Owns the count of message bytes all sessions hold in memory while receiving DATA, checked
// against server.max_inflight_data. Fails by refusal: Grow() returns false over the limit.
#pragma once

#include <cstdint>

namespace sw::gateway {

// Used on the event-loop thread only (no locking).
class DataBudget {
 public:
  uint64_t in_use() const { return in_use_; }

  // One transaction's share; given back when the lease goes.
  class Lease {
   public:
    explicit Lease(DataBudget* budget) : budget_(budget) {}
    ~Lease() { Release(); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    // Takes `n` more bytes unless the total would pass `limit` (0: no limit); then nothing
    // is taken and false returned. Without a budget every call succeeds.
    bool Grow(uint64_t n, uint64_t limit) {
      if (budget_ == nullptr || n == 0) return true;
      if (limit != 0 && budget_->in_use_ + n > limit) return false;
      budget_->in_use_ += n;
      held_ += n;
      return true;
    }
    void Release() {
      if (budget_ != nullptr) budget_->in_use_ -= held_;
      held_ = 0;
    }
    uint64_t held() const { return held_; }

   private:
    DataBudget* budget_;
    uint64_t held_ = 0;
  };

 private:
  uint64_t in_use_ = 0;
};

}  // namespace sw::gateway
