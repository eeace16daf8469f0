// Owns the control plane's plain records: resellers, customers and their contacts, tokens,
// domain metadata, and the principal a request acts as. Plain data; nothing here fails.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/config.h"

namespace sw::control {

// The operator's account ID (the config's admin.token acts for it).
inline constexpr const char* kOperator = "operator";

struct Branding {
  std::string product_name, logo_url, primary_color, alert_from, alert_from_name, support_email,
      portal_host;
};

struct Reseller {
  std::string id;  // r_ + 16 hex
  std::string name;
  uint64_t max_domains = 0;  // plan.max_domains; 0: unlimited
  Branding branding;
  uint64_t version = 1;
  int64_t created_ms = 0;
};

struct Contact {
  std::string name, email, phone, webhook, webhook_secret;
  std::vector<std::string> events = {"down", "up", "still_down"};
};

struct Customer {
  std::string id;  // c_ + 16 hex
  std::string name;
  std::string reseller;  // "" = the operator's direct customer
  std::vector<Contact> contacts;
  uint64_t version = 1;
  int64_t created_ms = 0;
};

enum class Role { kAdmin, kRead };

struct Token {
  std::string id;       // t_ + 16 hex
  std::string account;  // "operator", r_..., c_...
  Role role = Role::kRead;
  std::string name;
  std::string hash;  // hex SHA-256 of the token text; the text itself is never stored
  int64_t created_ms = 0;
  int64_t last_used_ms = 0;
};

// A provisioned domain: its routing and filtering (config::DomainConfig, also what the SMTP
// path reads) plus what only the control plane needs.
struct DomainRecord {
  config::DomainConfig domain;
  std::string verification_code;  // while pending
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

// Who a request acts as: the token's account and where it sits in the tree.
struct Principal {
  std::string token_id;  // "operator" for admin.token
  std::string account;   // kOperator, r_..., c_...
  Role role = Role::kAdmin;
  std::string reseller;  // the account's reseller ("" for the operator and direct customers)
  std::string customer;  // set for customer accounts
  bool is_operator() const { return account == kOperator; }
  bool is_reseller() const { return !is_operator() && customer.empty(); }
  bool is_customer() const { return !customer.empty(); }
};

const char* RoleName(Role r);

// Resellers and customers as of one moment, for readers on other threads (the alert engine).
struct TenantSnapshot {
  std::map<std::string, Reseller> resellers;
  std::map<std::string, Customer> customers;
};

}  // namespace sw::control
