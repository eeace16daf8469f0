// Owns resellers, customers and tokens as JSON: API input validated field by field, API
// views (secrets masked), and the stored form. Fails by FieldError naming the field.
#pragma once

#include <boost/json.hpp>

#include "control/field_error.h"
#include "control/records.h"

namespace sw::control {

// API input (create or PATCH): applies the known keys of `in` to `out`; unknown keys and bad
// values are a FieldError. `operator_view` allows `plan` (resellers) / `reseller` (customers).
MaybeError ApplyResellerJson(const boost::json::object& in, Reseller* out);
MaybeError ApplyCustomerJson(const boost::json::object& in, bool may_set_reseller, Customer* out);

// What the API shows (webhook secrets masked as "***").
boost::json::object ResellerView(const Reseller& r);
boost::json::object CustomerView(const Customer& c);
boost::json::object TokenView(const Token& t);

// The stored form (everything, secrets included; token text never exists here).
std::string StoreReseller(const Reseller& r);
std::string StoreCustomer(const Customer& c);
std::string StoreToken(const Token& t);
bool LoadReseller(const std::string& json, Reseller* out);
bool LoadCustomer(const std::string& json, Customer* out);
bool LoadToken(const std::string& json, Token* out);

}  // namespace sw::control
