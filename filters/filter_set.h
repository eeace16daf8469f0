// Owns the choice and construction of the scanners a configuration needs (rspamd + ClamAV).
// Fails at startup only: null + a clear reason (missing/empty ClamAV database, bad temp dir).
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "filters/pipeline.h"

namespace sw::filters {

// True when any domain has `filtering: true`.
bool AnyDomainFilters(const config::Config& config);

// rspamd (HTTP client thread) and ClamAV (engine loaded now, reloader started, worker pool).
std::unique_ptr<Pipeline> BuildPipeline(const config::Config& config, std::string* error);

}  // namespace sw::filters
