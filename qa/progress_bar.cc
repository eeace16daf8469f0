// Owns the progress line on stderr while a corpus is processed (only when stderr is a terminal).
// Fails silent: write errors are ignored; disabled output costs nothing.
#include "qa/progress_bar.h"

#include <unistd.h>

#include <cstdio>

namespace sw::qa {

using Clock = std::chrono::steady_clock;

ProgressBar::ProgressBar(std::ostream& out, bool enabled)
    : out_(out), enabled_(enabled), start_(Clock::now()), last_() {}

std::string ProgressBar::Render(size_t done, size_t total, size_t rows, double seconds,
                                size_t width) {
  size_t filled = total ? done * width / total : 0;
  if (filled > width) filled = width;
  std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
  char buf[128];
  std::snprintf(buf, sizeof buf, " %zu/%zu files  %zu msgs  %.1f msg/s", done, total, rows,
                seconds > 0 ? static_cast<double>(rows) / seconds : 0.0);
  return bar + buf;
}

void ProgressBar::Update(size_t done, size_t total, size_t rows) {
  if (!enabled_) return;
  auto now = Clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100) && done < total) return;
  last_ = now;
  drawn_ = true;
  double s = std::chrono::duration<double>(now - start_).count();
  out_ << "\r" << Render(done, total, rows, s, 30) << "\x1b[K" << std::flush;
}

void ProgressBar::Finish() {
  if (!enabled_ || !drawn_) return;
  out_ << "\r\x1b[K" << std::flush;
  drawn_ = false;
}

bool StderrIsTerminal() { return isatty(2) == 1; }

}  // namespace sw::qa
