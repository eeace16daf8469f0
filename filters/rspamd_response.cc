// Owns the reading of an rspamd /checkv2 reply: JSON -> score, action, symbols, milter changes.
// Fails by value: a reply that is not the expected JSON gives a kFailed FilterResult.
#include "filters/rspamd_response.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstddef>
#include <string>

namespace sw::filters {

namespace {

namespace json = boost::json;

// What the reader of replies always accepted: RFC 8259, nesting up to 64 deep, strings kept as
// bytes (invalid UTF-8 included). A lone \u surrogate, comments or trailing commas are errors.
json::parse_options ReplyOptions() {
  json::parse_options opt;
  opt.max_depth = 64;
  opt.allow_invalid_utf8 = true;
  return opt;
}

// Member `key` of `v`; nullptr when absent or when `v` is not an object.
const json::value* Find(const json::value& v, std::string_view key) {
  const json::object* o = v.if_object();
  return o ? o->if_contains(key) : nullptr;
}

// The number `v` holds (integers included), 0 for any other type; "" for a non-string.
double Number(const json::value& v) {
  if (const double* d = v.if_double()) return *d;
  if (const int64_t* i = v.if_int64()) return static_cast<double>(*i);
  if (const uint64_t* u = v.if_uint64()) return static_cast<double>(*u);
  return 0;
}

std::string String(const json::value& v) {
  const json::string* s = v.if_string();
  return s ? std::string(*s) : std::string();
}

void AddHeaderValue(const std::string& name, const json::value& v, FilterResult* r) {
  if (v.is_string()) {
    r->add_headers.push_back({name, String(v)});
  } else if (v.is_object()) {
    const json::value* value = Find(v, "value");
    if (value && value->is_string()) r->add_headers.push_back({name, String(*value)});
  } else if (const json::array* items = v.if_array()) {
    for (const auto& item : *items) AddHeaderValue(name, item, r);
  }
}

}  // namespace

FilterResult ParseCheckV2(std::string_view text) {
  // The document lives only for this call and everything kept is copied out: its values go to
  // a monotonic arena that starts in this stack buffer (a typical reply of 2-5 KiB fits), so
  // parsing costs no malloc/free per JSON value. Larger replies spill to the heap.
  alignas(std::max_align_t) unsigned char arena[16384];
  unsigned char parser_stack[2048];
  json::monotonic_resource mr(arena, sizeof arena);
  json::parser parser({}, ReplyOptions(), parser_stack, sizeof parser_stack);
  parser.reset(&mr);
  boost::system::error_code ec;
  size_t offset = parser.write(text.data(), text.size(), ec);
  if (ec) {
    return FilterResult::Failed(
        "rspamd", FilterOutcome::kFailed,
        "bad JSON at offset " + std::to_string(offset) + ": " + ec.message());
  }
  json::value doc = parser.release();
  if (!doc.is_object()) {
    return FilterResult::Failed("rspamd", FilterOutcome::kFailed, "reply is not a JSON object");
  }
  const json::value* score = Find(doc, "score");
  const json::value* action = Find(doc, "action");
  if (!score || !score->is_number() || !std::isfinite(Number(*score)) || !action ||
      !action->is_string()) {
    std::string why = "reply without score/action";
    if (const json::value* e = Find(doc, "error"); e && e->is_string())
      why = "rspamd error: " + String(*e);
    return FilterResult::Failed("rspamd", FilterOutcome::kFailed, why);
  }
  FilterResult r;
  r.filter = "rspamd";
  r.has_score = true;
  r.score = Number(*score);
  r.action = String(*action);
  if (const json::value* req = Find(doc, "required_score")) r.required_score = Number(*req);
  if (const json::value* skipped = Find(doc, "is_skipped"))
    r.forced = skipped->is_bool() && skipped->get_bool();
  if (const json::value* subject = Find(doc, "subject")) r.subject = String(*subject);
  if (const json::value* symbols = Find(doc, "symbols"); symbols && symbols->is_object()) {
    for (const auto& member : symbols->get_object()) {
      const json::value& sym = member.value();
      Symbol s;
      const json::value* name = Find(sym, "name");
      s.name = name && name->is_string() ? String(*name) : std::string(member.key());
      if (const json::value* sc = Find(sym, "score")) s.score = Number(*sc);
      if (!std::isfinite(s.score)) s.score = 0;
      r.symbols.push_back(std::move(s));
    }
    std::stable_sort(r.symbols.begin(), r.symbols.end(), [](const Symbol& a, const Symbol& b) {
      if (a.score != b.score) return a.score > b.score;
      return a.name < b.name;
    });
  }
  if (const json::value* milter = Find(doc, "milter"); milter && milter->is_object()) {
    if (const json::value* rm = Find(*milter, "remove_headers"); rm && rm->is_object()) {
      for (const auto& member : rm->get_object()) {
        double d = Number(member.value());
        int index = std::isfinite(d) && std::fabs(d) < 1000 ? static_cast<int>(d) : 0;
        r.remove_headers.push_back({std::string(member.key()), index});
      }
    }
    if (const json::value* add = Find(*milter, "add_headers"); add && add->is_object()) {
      for (const auto& member : add->get_object())
        AddHeaderValue(std::string(member.key()), member.value(), &r);
    }
  }
  return r;
}

}  // namespace sw::filters
