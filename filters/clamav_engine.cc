// Owns the libclamav engine: load at startup, scan from memory, reload a changed database.
// Fails by value: Open returns null + reason (missing/empty DB); a failed reload keeps the old.
#include "filters/clamav_engine.h"

#include <clamav.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "common/log.h"

namespace sw::filters {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::once_flag g_clamav_init;
cl_error_t g_clamav_init_rc = CL_SUCCESS;

void ClamavMessage(enum cl_msg severity, const char*, const char* msg, void*) {
  if (severity < CL_MSG_WARN || !msg) return;
  std::string text(msg);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (severity >= CL_MSG_ERROR) {
    log::Error("clamav_message").kv("msg", text);
  } else {
    log::Warn("clamav_message").kv("msg", text);
  }
}

bool InitClamav(std::string* error) {
  std::call_once(g_clamav_init, [] {
    cl_set_clcb_msg(&ClamavMessage);
    g_clamav_init_rc = cl_init(CL_INIT_DEFAULT);
  });
  if (g_clamav_init_rc != CL_SUCCESS) {
    *error = std::string("cl_init: ") + cl_strerror(g_clamav_init_rc);
    return false;
  }
  return true;
}

long long MtimeNs(const struct stat& st) {
  return static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
}

}  // namespace

std::string ClamavEngine::Fingerprint(const std::string& database) {
  struct stat st {};
  if (stat(database.c_str(), &st) != 0) return "missing";
  auto entry = [](const std::string& name, const struct stat& s) {
    return name + ":" + std::to_string(s.st_size) + ":" + std::to_string(MtimeNs(s)) + ";";
  };
  if (!S_ISDIR(st.st_mode)) return entry(database, st);
  std::vector<std::string> parts;
  std::error_code ec;
  for (const auto& de : fs::directory_iterator(database, ec)) {
    std::string name = de.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    struct stat fst {};
    if (stat(de.path().c_str(), &fst) != 0 || !S_ISREG(fst.st_mode)) continue;
    parts.push_back(entry(name, fst));
  }
  std::sort(parts.begin(), parts.end());
  std::string out = "dir;";
  for (const auto& p : parts) out += p;
  return out;
}

ClamavEngine::ClamavEngine(ClamavOptions options) : options_(std::move(options)) {}

ClamavEngine::~ClamavEngine() { Stop(); }

std::unique_ptr<ClamavEngine> ClamavEngine::Open(const ClamavOptions& options, std::string* error) {
  if (!InitClamav(error)) return nullptr;
  struct stat st {};
  if (stat(options.temp_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
      access(options.temp_dir.c_str(), W_OK | X_OK) != 0) {
    *error = "filters.clamav.temp_dir `" + options.temp_dir + "` is not a writable directory";
    return nullptr;
  }
  if (stat(options.database.c_str(), &st) != 0) {
    *error = "filters.clamav.database `" + options.database + "` does not exist (" +
             std::strerror(errno) + ")";
    return nullptr;
  }
  std::unique_ptr<ClamavEngine> e(new ClamavEngine(options));
  e->fingerprint_ = Fingerprint(options.database);
  unsigned sigs = 0;
  std::string why;
  auto engine = e->Build(&sigs, &why);
  if (!engine) {
    *error = "filters.clamav.database `" + options.database + "`: " + why;
    return nullptr;
  }
  e->engine_ = std::move(engine);
  e->signatures_ = sigs;
  e->generation_ = 1;
  return e;
}

std::shared_ptr<cl_engine> ClamavEngine::Build(unsigned* signatures, std::string* error) const {
  auto start = Clock::now();
  std::shared_ptr<cl_engine> engine(cl_engine_new(), [](cl_engine* e) {
    if (e) cl_engine_free(e);
  });
  if (!engine) {
    *error = "cl_engine_new failed";
    return nullptr;
  }
  cl_error_t rc = cl_engine_set_str(engine.get(), CL_ENGINE_TMPDIR, options_.temp_dir.c_str());
  if (rc != CL_SUCCESS) {
    *error = std::string("cannot set temp dir: ") + cl_strerror(rc);
    return nullptr;
  }
  unsigned sigs = 0;
  rc = cl_load(options_.database.c_str(), engine.get(), &sigs, CL_DB_STDOPT);
  if (rc != CL_SUCCESS) {
    *error = std::string("cannot load signatures: ") + cl_strerror(rc);
    return nullptr;
  }
  if (sigs == 0) {
    *error = "no signatures in the database";
    return nullptr;
  }
  rc = cl_engine_compile(engine.get());
  if (rc != CL_SUCCESS) {
    *error = std::string("cannot compile the engine: ") + cl_strerror(rc);
    return nullptr;
  }
  *signatures = sigs;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  log::Info("clamav_loaded")
      .kv("database", options_.database)
      .kv("signatures", sigs)
      .kv("ms", static_cast<long long>(ms))
      .kv("libclamav", cl_retver());
  return engine;
}

std::shared_ptr<cl_engine> ClamavEngine::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return engine_;
}

unsigned ClamavEngine::signatures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return signatures_;
}

uint64_t ClamavEngine::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

ClamavScan ClamavEngine::Scan(std::string_view data) const {
  ClamavScan out;
  std::shared_ptr<cl_engine> engine = Current();
  cl_fmap_t* map = cl_fmap_open_memory(data.data(), data.size());
  if (!map) {
    out.error = "cl_fmap_open_memory failed";
    return out;
  }
  cl_scan_options opts;
  std::memset(&opts, 0, sizeof opts);
  opts.parse = ~0u;  // every parser: mail, archives, OLE2, PDF, HTML, ...
  opts.general = CL_SCAN_GENERAL_HEURISTICS;
  const char* virname = nullptr;
  unsigned long scanned = 0;
  cl_error_t rc =
      cl_scanmap_callback(map, "message.eml", &virname, &scanned, engine.get(), &opts, nullptr);
  cl_fmap_close(map);
  if (rc == CL_VIRUS) {
    out.ok = true;
    out.virus = virname ? virname : "unknown";  // copied while `engine` is alive
  } else if (rc == CL_CLEAN) {
    out.ok = true;
  } else {
    out.error = cl_strerror(rc);
  }
  return out;
}

bool ClamavEngine::ReloadIfChanged() {
  std::lock_guard<std::mutex> one(reload_mu_);
  std::string fp = Fingerprint(options_.database);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (fp == fingerprint_) return false;
  }
  unsigned sigs = 0;
  std::string why;
  auto engine = Build(&sigs, &why);
  // Files still changing while we loaded: try again at the next check.
  std::string after = Fingerprint(options_.database);
  if (!engine) {
    log::Warn("clamav_reload_failed").kv("database", options_.database).kv("reason", why);
    if (after == fp) {
      std::lock_guard<std::mutex> lock(mu_);
      fingerprint_ = fp;  // do not retry the same broken files every interval
    }
    return false;
  }
  uint64_t gen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    engine_ = std::move(engine);  // scans in flight keep the old engine until they finish
    signatures_ = sigs;
    gen = ++generation_;
    if (after == fp) fingerprint_ = fp;
  }
  log::Info("clamav_reloaded")
      .kv("database", options_.database)
      .kv("signatures", sigs)
      .kv("generation", static_cast<unsigned long long>(gen));
  return true;
}

void ClamavEngine::StartReloading() {
  if (reloader_.joinable()) return;
  reloader_ = std::thread([this] { ReloadLoop(); });
}

void ClamavEngine::ReloadLoop() {
  std::unique_lock<std::mutex> lock(reload_mu_);
  for (;;) {
    cv_.wait_for(lock, options_.reload_interval, [this] { return stop_; });
    if (stop_) return;
    lock.unlock();
    ReloadIfChanged();
    lock.lock();
  }
}

void ClamavEngine::Stop() {
  {
    std::lock_guard<std::mutex> lock(reload_mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (reloader_.joinable()) reloader_.join();
}

}  // namespace sw::filters
