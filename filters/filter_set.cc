// Owns the choice and construction of the scanners a configuration needs (rspamd + ClamAV).
// Fails at startup only: null + a clear reason (missing/empty ClamAV database, bad temp dir).
#include "filters/filter_set.h"

#include <thread>

#include "filters/clamav_engine.h"
#include "filters/clamav_filter.h"
#include "filters/clamav_worker_pool.h"
#include "filters/rspamd_filter.h"

namespace sw::filters {

bool AnyDomainFilters(const config::Config& config) {
  for (const auto& [name, d] : config.domains)
    if (d.filtering) return true;
  return false;
}

std::unique_ptr<Pipeline> BuildPipeline(const config::Config& config, std::string* error) {
  const config::ClamavConfig& cc = config.filters.clamav;
  ClamavOptions options{cc.database, cc.temp_dir, cc.reload_interval};
  uint32_t concurrency =
      cc.threads ? cc.threads : std::max(1u, std::thread::hardware_concurrency());
  std::unique_ptr<VirusScanner> scanner;
  if (cc.isolation == config::ClamavIsolation::kProcess) {
    ClamavWorkerOptions w;
    w.clamav = options;
    w.workers = concurrency;
    w.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cc.timeout);
    w.memory = cc.worker_memory;
    scanner = ClamavWorkerPool::Start(w, error);
  } else {
    auto engine = ClamavEngine::Open(options, error);
    if (engine) engine->StartReloading();
    scanner = std::move(engine);
  }
  if (!scanner) return nullptr;
  std::vector<std::unique_ptr<Filter>> filters;
  filters.push_back(std::make_unique<RspamdFilter>(config.filters.rspamd));
  filters.push_back(std::make_unique<ClamavFilter>(std::move(scanner), concurrency));
  return std::make_unique<Pipeline>(std::move(filters));
}

}  // namespace sw::filters
