// Owns the human summary that `check-config` prints for a configuration that loaded.
// Cannot fail: it only formats fields of an already validated Config.
#include <sstream>

#include "config/config.h"

namespace sw::config {

std::string Summarize(const Config& config) {
  std::ostringstream out;
  out << "config " << config.source << ": ok\n";
  out << "  hostname: " << config.server.hostname << "\n";
  out << "  listen:";
  for (const auto& address : config.server.listen) out << " " << address.ToString();
  out << (config.server.tls ? " (STARTTLS)" : "") << "\n";
  out << "  queue: " << config.queue.path << "\n";
  out << "  admin: " << config.admin.listen.ToString() << "\n";
  size_t filtering = 0;
  for (const auto& [name, domain] : config.domains) filtering += domain.filtering ? 1 : 0;
  out << "  domains: " << config.domains.size() << " (" << filtering << " with filtering)\n";
  for (const auto& [name, domain] : config.domains) {
    out << "    " << name << " ->";
    for (size_t i = 0; i < domain.destinations.size(); ++i) {
      out << (i == 0 ? " " : ", ") << domain.destinations[i].ToString();
    }
    if (domain.filtering) out << " (filtering)";
    out << "\n";
  }
  return out.str();
}

}  // namespace sw::config
