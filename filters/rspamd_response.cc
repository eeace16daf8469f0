// Owns the reading of an rspamd /checkv2 reply: JSON -> score, action, symbols, milter changes.
// Fails by value: a reply that is not the expected JSON gives a kFailed FilterResult.
#include "filters/rspamd_response.h"

#include <algorithm>
#include <cmath>

#include "filters/json.h"

namespace sw::filters {

namespace {

void AddHeaderValue(const std::string& name, const json::Value& v, FilterResult* r) {
  if (v.is_string()) {
    r->add_headers.push_back({name, v.AsString()});
  } else if (v.is_object()) {
    const json::Value* value = v.Find("value");
    if (value && value->is_string()) r->add_headers.push_back({name, value->AsString()});
  } else if (v.is_array()) {
    for (const auto& item : v.items()) AddHeaderValue(name, item, r);
  }
}

}  // namespace

FilterResult ParseCheckV2(std::string_view text) {
  json::ParseError err;
  auto doc = json::Parse(text, &err);
  if (!doc) {
    return FilterResult::Failed(
        "rspamd", FilterOutcome::kFailed,
        "bad JSON at offset " + std::to_string(err.offset) + ": " + err.message);
  }
  if (!doc->is_object()) {
    return FilterResult::Failed("rspamd", FilterOutcome::kFailed, "reply is not a JSON object");
  }
  const json::Value* score = doc->Find("score");
  const json::Value* action = doc->Find("action");
  if (!score || !score->is_number() || !std::isfinite(score->AsNumber()) || !action ||
      !action->is_string()) {
    std::string why = "reply without score/action";
    if (const json::Value* e = doc->Find("error"); e && e->is_string())
      why = "rspamd error: " + e->AsString();
    return FilterResult::Failed("rspamd", FilterOutcome::kFailed, why);
  }
  FilterResult r;
  r.filter = "rspamd";
  r.has_score = true;
  r.score = score->AsNumber();
  r.action = action->AsString();
  if (const json::Value* req = doc->Find("required_score")) r.required_score = req->AsNumber();
  if (const json::Value* skipped = doc->Find("is_skipped")) r.forced = skipped->AsBool();
  if (const json::Value* subject = doc->Find("subject")) r.subject = subject->AsString();
  if (const json::Value* symbols = doc->Find("symbols"); symbols && symbols->is_object()) {
    for (const auto& [key, sym] : symbols->members()) {
      Symbol s;
      const json::Value* name = sym.Find("name");
      s.name = name && name->is_string() ? name->AsString() : key;
      if (const json::Value* sc = sym.Find("score")) s.score = sc->AsNumber();
      if (!std::isfinite(s.score)) s.score = 0;
      r.symbols.push_back(std::move(s));
    }
    std::stable_sort(r.symbols.begin(), r.symbols.end(), [](const Symbol& a, const Symbol& b) {
      if (a.score != b.score) return a.score > b.score;
      return a.name < b.name;
    });
  }
  if (const json::Value* milter = doc->Find("milter"); milter && milter->is_object()) {
    if (const json::Value* rm = milter->Find("remove_headers"); rm && rm->is_object()) {
      for (const auto& [name, idx] : rm->members()) {
        double d = idx.AsNumber(0);
        int index = std::isfinite(d) && std::fabs(d) < 1000 ? static_cast<int>(d) : 0;
        r.remove_headers.push_back({name, index});
      }
    }
    if (const json::Value* add = milter->Find("add_headers"); add && add->is_object()) {
      for (const auto& [name, v] : add->members()) AddHeaderValue(name, v, &r);
    }
  }
  return r;
}

}  // namespace sw::filters
