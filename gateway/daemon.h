// Owns the `serve` lifecycle: store, relay queue, SMTP listeners, signals (TERM, INT, HUP).
// Fails with an exit status: 1 runtime failure (store, bind), 2 config problem.
#pragma once

#include <memory>

#include "config/config.h"

namespace sw::gateway {

// Runs until SIGTERM/SIGINT; returns the process exit status.
int Serve(const std::string& config_path);

}  // namespace sw::gateway
