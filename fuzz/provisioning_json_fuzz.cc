// Owns fuzzing of the provisioning API's JSON validators (domains, resellers, customers) on
// request bodies parsed as the API parses them. Fails (aborts) on a throw or a lossy round trip.
#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "control/domain_json.h"
#include "control/tenant_json.h"
#include "fuzz/fuzz_check.h"

namespace {

namespace json = boost::json;
using namespace sw::control;
using sw::fuzz::NoAsciiControl;

// A domain already provisioned, as a PATCH finds it.
DomainRecord ExistingDomain() {
  DomainRecord r;
  r.domain.name = "example.com";
  r.domain.source = sw::config::DomainSource::kApi;
  r.domain.destinations = {{"mail.example.com", 25, false}};
  r.domain.customer = "c_0123456789abcdef";
  r.domain.version = 3;
  r.created_ms = 1700000000000;
  r.updated_ms = 1700000001000;
  return r;
}

// Boost 1.81's JSON parser does not round every double correctly: a stored score may read
// back one ulp off. Scores compare within 1e-12 (relative), everything else exactly.
bool SameScore(const json::value& a, const json::value& b) {
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
  double x = a.to_number<double>(), y = b.to_number<double>();
  return std::fabs(x - y) <= 1e-12 * std::max(1.0, std::fabs(x));
}

bool SameDomainView(json::object a, json::object b) {
  json::object& sa = a["spam"].as_object();
  json::object& sb = b["spam"].as_object();
  for (const char* k : {"tag_score", "reject_score"}) {
    if (!SameScore(sa[k], sb[k])) return false;
    sa.erase(k);
    sb.erase(k);
  }
  return a == b;
}

// An accepted domain is what the API shows, and reads back from the store unchanged.
void CheckDomain(const DomainRecord& r) {
  FUZZ_CHECK(!r.domain.name.empty() && NoAsciiControl(r.domain.name));
  FUZZ_CHECK(!r.domain.destinations.empty());
  FUZZ_CHECK(NoAsciiControl(r.domain.spam.subject_tag));
  for (const auto& rcpt : r.domain.recipients) FUZZ_CHECK(NoAsciiControl(rcpt));
  DomainRecord back;
  FUZZ_CHECK(LoadDomain(StoreDomain(r), &back));
  FUZZ_CHECK(SameDomainView(DomainView(back), DomainView(r)));
}

void Domain(const json::object& body, DomainInput mode) {
  DomainRecord r = mode == DomainInput::kPatch ? ExistingDomain() : DomainRecord{};
  if (mode != DomainInput::kPatch) r.domain.source = sw::config::DomainSource::kApi;
  if (ApplyDomainJson(body, mode, &r)) return;
  if (mode == DomainInput::kPatch) FUZZ_CHECK(r.domain.name == "example.com");
  if (mode != DomainInput::kStored) CheckDomain(r);
}

void ResellerBody(const json::object& body) {
  Reseller r;
  r.id = "r_0123456789abcdef";
  r.created_ms = 1700000000000;
  if (ApplyResellerJson(body, &r)) return;
  FUZZ_CHECK(!r.name.empty() && NoAsciiControl(r.name));
  const Branding& b = r.branding;
  for (const std::string* s : {&b.product_name, &b.logo_url, &b.primary_color, &b.alert_from,
                               &b.alert_from_name, &b.support_email, &b.portal_host})
    FUZZ_CHECK(NoAsciiControl(*s));
  Reseller back;
  FUZZ_CHECK(LoadReseller(StoreReseller(r), &back));
  FUZZ_CHECK(ResellerView(back) == ResellerView(r));
}

void CustomerBody(const json::object& body, bool may_set_reseller) {
  Customer c;
  c.id = "c_0123456789abcdef";
  c.created_ms = 1700000000000;
  if (ApplyCustomerJson(body, may_set_reseller, &c)) return;
  FUZZ_CHECK(!c.name.empty() && NoAsciiControl(c.name));
  FUZZ_CHECK(NoAsciiControl(c.reseller));
  if (!may_set_reseller) FUZZ_CHECK(c.reseller.empty());
  for (const auto& k : c.contacts)
    for (const std::string* s : {&k.name, &k.email, &k.phone, &k.webhook, &k.webhook_secret})
      FUZZ_CHECK(NoAsciiControl(*s));
  Customer back;
  FUZZ_CHECK(LoadCustomer(StoreCustomer(c), &back));
  FUZZ_CHECK(CustomerView(back) == CustomerView(c));
}

}  // namespace

// First byte: which validator; the rest: the request body.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t which = data[0] % 6;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  // As admin/api_reply.cc ParseObjectBody parses request bodies.
  boost::system::error_code ec;
  json::parse_options opt;
  opt.max_depth = 16;
  json::value v = json::parse(text, ec, {}, opt);
  if (ec || !v.is_object()) return 0;
  const json::object& body = v.as_object();
  switch (which) {
    case 0:
      Domain(body, DomainInput::kCreate);
      break;
    case 1:
      Domain(body, DomainInput::kPatch);
      break;
    case 2:
      Domain(body, DomainInput::kStored);
      break;
    case 3:
      ResellerBody(body);
      break;
    case 4:
      CustomerBody(body, true);
      break;
    default:
      CustomerBody(body, false);
      break;
  }
  return 0;
}
