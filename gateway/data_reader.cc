// Owns the DATA phase byte machine: end only at CRLF.CRLF, dot-unstuffing, bare CR/LF
// normalized to CRLF, size cap. Fails by flags (too big), never by unbounded memory.
#include "gateway/data_reader.h"

#include <cstring>

namespace sw::gateway {

void DataReader::Emit(std::string_view s) {
  size_ += s.size();
  if (size_ <= max_size_ && !discarded_) body_.append(s);
}

// Only a real CRLF (CR immediately followed by LF) starts a new line for the purposes of
// dot-unstuffing and end-of-data. A bare LF or CR is emitted as CRLF but leaves us in
// the middle of a line, so "\n.\n", "\r\n.\n", "\n.\r\n" and "\r.\r\n" never end DATA.
size_t DataReader::Feed(std::string_view in) {
  size_t i = 0;
  const size_t n = in.size();
  while (i < n && !done_) {
    char b = in[i];
    if (cr_pending_) {
      cr_pending_ = false;
      if (b == '\n') {
        ++i;
        if (state_ == LineState::kDot) {
          done_ = true;
          break;
        }
        EmitCrlf();
        state_ = LineState::kStart;
        continue;
      }
      // Bare CR.
      ++bare_cr_;
      if (state_ == LineState::kDot) state_ = LineState::kMid;  // stuffing dot dropped
      EmitCrlf();
      state_ = LineState::kMid;
      // fall through: process b normally
    }
    if (b == '\r') {
      cr_pending_ = true;
      ++i;
      continue;
    }
    if (b == '\n') {
      ++bare_lf_;
      EmitCrlf();
      state_ = LineState::kMid;
      ++i;
      continue;
    }
    if (state_ == LineState::kStart && b == '.') {
      state_ = LineState::kDot;
      ++i;
      continue;
    }
    // kDot followed by an ordinary byte: the dot was stuffing, drop it.
    state_ = LineState::kMid;
    // Fast path: copy the run of ordinary bytes up to the next CR or LF.
    size_t j = i;
    while (j < n && in[j] != '\r' && in[j] != '\n') {
      if (static_cast<unsigned char>(in[j]) >= 0x80) eightbit_ = true;
      ++j;
    }
    Emit(in.substr(i, j - i));
    i = j;
  }
  return i;
}

}  // namespace sw::gateway
