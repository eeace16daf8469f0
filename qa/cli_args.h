// Owns the option-reading pieces `scan` and `train` share: --help, an option's value, --jobs.
// Fails by returning false with `error` set (the command prints it with its usage).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sw::qa {

// True when any argument is -h or --help.
bool WantsHelp(const std::vector<std::string>& args);

// args[i] is an option that takes a value: copies args[i + 1] to *out and advances i.
bool TakeValue(const std::vector<std::string>& args, size_t& i, std::string* out,
               std::string* error);

// args[i] is --jobs/-j: its value must be a whole number from 1 to `max`.
bool TakeJobs(const std::vector<std::string>& args, size_t& i, size_t max, size_t* out,
              std::string* error);

}  // namespace sw::qa
