// Owns the DATA phase byte machine: end only at CRLF.CRLF, dot-unstuffing, bare CR/LF
// normalized to CRLF, size cap. Fails by flags (too big), never by unbounded memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sw::gateway {

class DataReader {
 public:
  // Bytes beyond `max_size` are counted and discarded (the message will get 552).
  explicit DataReader(uint64_t max_size) : max_size_(max_size) {}

  // Consumes input up to and including the end-of-data marker. Returns the number of
  // bytes consumed; done() tells whether the marker was seen (the rest of `in` is the
  // next pipelined command).
  size_t Feed(std::string_view in);

  bool done() const { return done_; }
  bool too_big() const { return size_ > max_size_; }
  uint64_t size() const { return size_; }        // normalized body bytes seen
  uint64_t bare_lf() const { return bare_lf_; }  // bare LF normalized to CRLF
  uint64_t bare_cr() const { return bare_cr_; }  // bare CR normalized to CRLF
  bool eightbit() const { return eightbit_; }
  // Stops keeping the body (memory budget spent): the rest is still read and counted, the
  // body so far is freed. The transaction will get a 4xx.
  void Discard() {
    discarded_ = true;
    std::string().swap(body_);
  }
  bool discarded() const { return discarded_; }
  // The body: CRLF line endings, unstuffed, ends with CRLF (or empty).
  std::string& body() { return body_; }

 private:
  enum class LineState { kStart, kDot, kMid };
  void Emit(std::string_view s);
  void EmitCrlf() { Emit("\r\n"); }

  uint64_t max_size_;
  uint64_t size_ = 0;
  uint64_t bare_lf_ = 0, bare_cr_ = 0;
  bool eightbit_ = false;
  bool done_ = false;
  bool discarded_ = false;
  bool cr_pending_ = false;
  LineState state_ = LineState::kStart;
  std::string body_;
};

}  // namespace sw::gateway
