// Owns a domain record as JSON: API input (create, PATCH) validated with config's domain
// rules, the API view, and the stored form. Fails by FieldError naming the field.
#pragma once

#include <boost/json.hpp>

#include "control/field_error.h"
#include "control/records.h"

namespace sw::control {

enum class DomainInput {
  kCreate,  // POST: `name` required, `destinations` required
  kPatch,   // PATCH: any subset of the writable keys; `name` cannot change
  kStored,  // read back from the store: `name` required, nothing else
};

// Applies the keys of `in` to `out` (`spam` merged key by key). `customer` is copied as given;
// the caller checks that it exists and is in scope. Unknown keys and bad values: FieldError.
MaybeError ApplyDomainJson(const boost::json::object& in, DomainInput mode, DomainRecord* out);

// What the API shows: every per-domain key of SPEC section 3 plus source, state, version.
boost::json::object DomainView(const DomainRecord& d);

std::string StoreDomain(const DomainRecord& d);
bool LoadDomain(const std::string& json, DomainRecord* out);

}  // namespace sw::control
