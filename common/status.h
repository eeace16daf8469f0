// Owns the data plane's error value: ok, or a kind plus a message (no exceptions).
// Plain data; nothing here fails.
#pragma once

#include <string>
#include <utility>

namespace sw {

class Status {
 public:
  enum class Code { kOk, kNotFound, kIoError, kNoSpace, kCorrupt, kInvalid, kUnavailable };
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace sw
