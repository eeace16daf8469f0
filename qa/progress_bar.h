// Owns the progress line on stderr while a corpus is processed (only when stderr is a terminal).
// Fails silent: write errors are ignored; disabled output costs nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

namespace sw::qa {

class ProgressBar {
 public:
  // `enabled`: usually isatty(2). Redraws at most every 100 ms.
  ProgressBar(std::ostream& out, bool enabled);
  void Update(size_t done, size_t total, size_t rows);
  void Finish();  // clears the line

  // "[#####.....]  50/100 files  123 msgs  45.0 msg/s" (exposed for tests).
  static std::string Render(size_t done, size_t total, size_t rows, double seconds, size_t width);

 private:
  std::ostream& out_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

// True when file descriptor 2 is a terminal.
bool StderrIsTerminal();

}  // namespace sw::qa
