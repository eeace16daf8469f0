// Owns the option-reading pieces `scan` and `train` share: --help, an option's value, --jobs.
// Fails by returning false with `error` set (the command prints it with its usage).
#include "qa/cli_args.h"

#include <charconv>

namespace sw::qa {

bool WantsHelp(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "-h" || a == "--help") return true;
  return false;
}

bool TakeValue(const std::vector<std::string>& args, size_t& i, std::string* out,
               std::string* error) {
  if (i + 1 >= args.size()) {
    *error = args[i] + " needs a value";
    return false;
  }
  *out = args[++i];
  return true;
}

bool TakeJobs(const std::vector<std::string>& args, size_t& i, size_t max, size_t* out,
              std::string* error) {
  std::string v;
  if (!TakeValue(args, i, &v, error)) return false;
  size_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n == 0 || n > max) {
    *error = "--jobs must be 1.." + std::to_string(max);
    return false;
  }
  *out = n;
  return true;
}

}  // namespace sw::qa
