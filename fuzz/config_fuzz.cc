// Owns fuzzing of the config loader: any text through LoadConfigFromString and Summarize.
// Fails (aborts) on any exception but ConfigError (SIGHUP reload and check-config catch only it).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The loader reads the files a config names (token_file, TLS files): keep it off devices and
  // kernel files (/dev/zero never ends), which are no finding. -1: not added to the corpus.
  for (std::string_view dir : {"/dev", "/proc", "/sys", "/run"})
    if (text.find(dir) != std::string::npos) return -1;
  try {
    sw::config::Config config = sw::config::LoadConfigFromString(text, "fuzz.yaml");
    FUZZ_CHECK(config.source == "fuzz.yaml");
    FUZZ_CHECK(!sw::config::Summarize(config).empty());
  } catch (const sw::config::ConfigError& e) {
    // Every problem says where, "fuzz.yaml:LINE:COL: message" (or "fuzz.yaml: message"), on
    FUZZ_CHECK(!e.problems().empty());
    // one line each, no control byte (check-config prints them to a terminal).
    for (const auto& p : e.problems()) {
      FUZZ_CHECK(p.rfind("fuzz.yaml", 0) == 0);
      FUZZ_CHECK(sw::fuzz::NoAsciiControl(p));
    }
  }
  return 0;
}
