// Owns the lookup of the portal's files (portal/), embedded into the binary at build time by
// cmake/embed_assets.cmake. Fails by value: an unknown name is nullptr.
#pragma once

#include <cstddef>
#include <string_view>

namespace sw::admin {

struct PortalAsset {
  const char* name;          // "app.js"
  const char* content_type;  // "text/javascript; charset=utf-8"
  const char* data;
  size_t size;
};

const PortalAsset* FindPortalAsset(std::string_view name);

}  // namespace sw::admin
