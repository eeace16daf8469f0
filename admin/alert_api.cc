// Owns the monitoring endpoints (SPEC section 11): alert history, usage per domain per day (JSON,
// CSV), test alerts, status history. Fails by HTTP status + JSON {"error", "field"}; never throws.
#include "admin/alert_api.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <iterator>
#include <limits>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "admin/api_reply.h"
#include "common/log.h"

namespace sw::admin {

namespace json = boost::json;
using control::ControlStore;
using control::Principal;

namespace {

constexpr size_t kDefaultAlerts = 100;
constexpr size_t kMaxAlerts = 1000;
constexpr int64_t kDefaultUsageDays = 30;  // today and the 29 days before
constexpr int64_t kDayMs = 86400000;

std::optional<json::object> ParseObject(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::string Str(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t Int(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= uint64_t{std::numeric_limits<int64_t>::max()})
    return static_cast<int64_t>(v->as_uint64());
  return 0;
}

uint64_t Count(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (!v) return 0;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64() && v->as_int64() > 0) return static_cast<uint64_t>(v->as_int64());
  return 0;
}

std::string NormalizeDomain(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// The `domain` query value (normalized), "" when absent; nullopt with *err = 404 when the
// caller does not see it. The operator sees every domain name, deleted ones included (their
// alerts and usage outlive them).
std::optional<std::string> DomainParam(control::ControlPlane& control, const Principal& p,
                                       const std::map<std::string, std::string>& query,
                                       HttpResponse* err) {
  auto it = query.find("domain");
  if (it == query.end() || it->second.empty()) return std::string();
  std::string domain = NormalizeDomain(it->second);
  bool seen = domain.find('/') == std::string::npos && !domain.empty() &&
              (p.is_operator() || control.SeesDomain(p, domain));
  if (!seen) {
    *err = FieldReply(404, "no such domain: " + domain, "domain");
    return std::nullopt;
  }
  return domain;
}

// ---- alert history ----

// Newest first: the larger at_ms first, then the larger ID.
struct EventOrder {
  int64_t at_ms = 0;
  std::string id;
  bool operator<(const EventOrder& o) const {
    return std::tie(o.at_ms, o.id) < std::tie(at_ms, id);
  }
};

std::string Cursor(const EventOrder& k) { return std::to_string(k.at_ms) + ":" + k.id; }

// "<at_ms>:<id>", as Cursor writes it.
std::optional<EventOrder> ParseCursor(const std::string& s) {
  size_t colon = s.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  EventOrder k;
  auto res = std::from_chars(s.data(), s.data() + colon, k.at_ms);
  if (res.ec != std::errc() || res.ptr != s.data() + colon || k.at_ms < 0) return std::nullopt;
  k.id = s.substr(colon + 1);
  return k;
}

// The newest `keep` events offered (memory bounded by the page, not by the history).
class NewestEvents {
 public:
  explicit NewestEvents(size_t keep) : keep_(keep) {}
  void Offer(EventOrder key, json::object event) {
    if (keep_ == 0) return;
    if (events_.size() >= keep_ && !(key < std::prev(events_.end())->first)) return;
    events_.emplace(std::move(key), std::move(event));
    if (events_.size() > keep_) events_.erase(std::prev(events_.end()));
  }
  std::map<EventOrder, json::object>& events() { return events_; }

 private:
  size_t keep_;
  std::map<EventOrder, json::object> events_;
};

// Events under `prefix` that `p` sees and that are older than `before` (when set).
Status ScanEvents(ControlStore& store, const Principal& p, const std::string& prefix,
                  const std::optional<EventOrder>& before, NewestEvents* out) {
  return store.ScanPrefix(prefix, [&](const std::string&, const std::string& text) {
    auto o = ParseObject(text);
    if (!o || !SeesRecord(p, *o)) return true;
    EventOrder k{Int(*o, "at_ms"), Str(*o, "id")};
    if (before && !(*before < k)) return true;
    out->Offer(std::move(k), std::move(*o));
    return true;
  });
}

// ---- usage ----

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "YYYYMMDD" of a day number (civil_from_days).
std::string CompactDay(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld%02u%02u", static_cast<long long>(y), m, d);
  return buf;
}

// "YYYY-MM-DD" of "YYYYMMDD", "YYYY-MM-DDTHH:00:00Z" of "YYYYMMDDHH".
std::string IsoDay(const std::string& compact) {
  if (compact.size() != 8 && compact.size() != 10) return compact;
  std::string day = compact.substr(0, 4) + "-" + compact.substr(4, 2) + "-" + compact.substr(6, 2);
  return compact.size() == 8 ? day : day + "T" + compact.substr(8, 2) + ":00:00Z";
}

// A day number of "YYYY-MM-DD" (a real date, 1970 or later); nullopt otherwise.
std::optional<int64_t> ParseDay(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto num = [&](size_t pos, size_t len, unsigned* out) {
    auto res = std::from_chars(s.data() + pos, s.data() + pos + len, *out);
    return res.ec == std::errc() && res.ptr == s.data() + pos + len;
  };
  unsigned y = 0, m = 0, d = 0;
  if (!num(0, 4, &y) || !num(5, 2, &m) || !num(8, 2, &d)) return std::nullopt;
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  int64_t days = DaysFromCivil(y, m, d);
  std::string want =
      std::string(s.substr(0, 4)) + std::string(s.substr(5, 2)) + std::string(s.substr(8, 2));
  if (CompactDay(days) != want) return std::nullopt;  // 2026-02-30 and the like
  return days;
}

struct DayRange {
  int64_t from = 0, to = 0;  // day numbers, both included
  bool hourly = false;       // granularity=hour: periods "YYYYMMDDHH", else "YYYYMMDD"
  size_t PeriodLength() const { return hourly ? 10 : 8; }
  std::string From() const { return CompactDay(from); }
  std::string To() const { return CompactDay(to); }
};

// from/to of the query: default the 30 days up to today (UTC); 422 naming the field when a
// date is malformed, from is after to, or the range is over kMaxUsageDays.
std::optional<DayRange> ParseRange(const std::map<std::string, std::string>& query, int64_t today,
                                   HttpResponse* err) {
  auto date = [&](const char* key, std::optional<int64_t>* out) {
    auto it = query.find(key);
    if (it == query.end() || it->second.empty()) return true;
    *out = ParseDay(it->second);
    if (!*out) *err = FieldReply(422, std::string(key) + ": must be a date YYYY-MM-DD", key);
    return out->has_value();
  };
  std::optional<int64_t> from, to;
  if (!date("from", &from) || !date("to", &to)) return std::nullopt;
  DayRange r;
  r.to = to ? *to : today;
  r.from = from ? *from : r.to - (kDefaultUsageDays - 1);
  if (r.from > r.to) {
    *err = FieldReply(422, "from: must not be after to (" + IsoDay(r.To()) + ")", "from");
    return std::nullopt;
  }
  auto g = query.find("granularity");
  if (g != query.end() && !g->second.empty() && g->second != "day" && g->second != "hour") {
    *err = FieldReply(422, "granularity: must be day or hour", "granularity");
    return std::nullopt;
  }
  r.hourly = g != query.end() && g->second == "hour";
  const int64_t max_days = r.hourly ? kMaxHourlyUsageDays : kMaxUsageDays;
  if (r.to - r.from + 1 > max_days) {
    *err = FieldReply(422,
                      "from: the range is over " + std::to_string(max_days) + " days" +
                          (r.hourly ? " (granularity=hour)" : ""),
                      "from");
    return std::nullopt;
  }
  return r;
}

struct DayUsage {
  uint64_t accepted = 0, delivered = 0, deferred = 0, rejected_spam = 0, rejected_virus = 0,
           bytes = 0;
  bool filtering = false;
  uint64_t filtering_days = 0;  // totals only
  void Add(const json::object& row) {
    accepted += Count(row, "accepted");
    delivered += Count(row, "delivered");
    deferred += Count(row, "deferred");
    rejected_spam += Count(row, "rejected_spam");
    rejected_virus += Count(row, "rejected_virus");
    bytes += Count(row, "bytes");
    auto* f = row.if_contains("filtering");
    filtering |= f && f->is_bool() && f->as_bool();
  }
  void AddDay(const DayUsage& d) {
    accepted += d.accepted;
    delivered += d.delivered;
    deferred += d.deferred;
    rejected_spam += d.rejected_spam;
    rejected_virus += d.rejected_virus;
    bytes += d.bytes;
    filtering_days += d.filtering ? 1 : 0;
  }
  void AppendCounts(json::object& o) const {
    o["accepted"] = accepted;
    o["delivered"] = delivered;
    o["deferred"] = deferred;
    o["rejected_spam"] = rejected_spam;
    o["rejected_virus"] = rejected_virus;
    o["bytes"] = bytes;
  }
};
// "YYYYMMDD" (or "YYYYMMDDHH" with granularity=hour) -> that period's sum.
using DomainDays = std::map<std::string, DayUsage>;

// Sums the rows "u/<domain>/<YYYYMMDDHH>/<node>" of days in [from, to] that `p` may count (a
// row counts for the account that owned the domain when it was written).
Status ScanUsage(ControlStore& store, const Principal& p, const std::string& domain,
                 const DayRange& range, DomainDays* out) {
  const std::string prefix = "u/" + domain + "/", from = range.From(), to = range.To();
  return store.ScanPrefix(prefix, [&](const std::string& key, const std::string& text) {
    if (key.size() < prefix.size() + 10) return true;
    std::string day = key.substr(prefix.size(), 8);
    if (day < from) return true;
    if (day > to) return false;  // keys sort by hour: nothing later is in range
    auto o = ParseObject(text);
    if (o && SeesRecord(p, *o)) (*out)[key.substr(prefix.size(), range.PeriodLength())].Add(*o);
    return true;
  });
}

// Names of the live domains `p` sees (config-file ones included for the operator).
std::vector<std::string> VisibleDomains(control::ControlPlane& control, const Principal& p) {
  auto rows = control.ListDomains(
      "", std::numeric_limits<size_t>::max(), [&](const control::DomainRecord& d) {
        return p.is_operator() ||
               (!d.domain.customer.empty() && control.SeesCustomer(p, d.domain.customer));
      });
  std::vector<std::string> names;
  names.reserve(rows.size());
  for (const auto& d : rows) names.push_back(d.domain.name);
  return names;
}

// The domains of a usage query: `domain` (one), `domains` (a comma-separated list of at most
// kMaxUsageDomainList, e.g. a page of the portal's list) or, with neither, every visible one.
// 404 naming the field for a domain the caller does not see; 422 for both or too many.
std::optional<std::vector<std::string>> UsageDomains(control::ControlPlane& control,
                                                     const Principal& p,
                                                     const std::map<std::string, std::string>& q,
                                                     HttpResponse* err) {
  auto list = q.find("domains");
  if (list == q.end() || list->second.empty()) {
    auto domain = DomainParam(control, p, q, err);
    if (!domain) return std::nullopt;
    if (domain->empty()) return VisibleDomains(control, p);
    return std::vector<std::string>{*domain};
  }
  if (auto one = q.find("domain"); one != q.end() && !one->second.empty()) {
    *err = FieldReply(422, "domains: give domain or domains, not both", "domains");
    return std::nullopt;
  }
  std::vector<std::string> out;
  std::string_view rest = list->second;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string name = NormalizeDomain(std::string(rest.substr(0, comma)));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (out.size() == kMaxUsageDomainList) {
      *err = FieldReply(422, "domains: at most " + std::to_string(kMaxUsageDomainList) + " names",
                        "domains");
      return std::nullopt;
    }
    if (name.empty() || name.find('/') != std::string::npos ||
        !(p.is_operator() || control.SeesDomain(p, name))) {
      *err = FieldReply(404, "no such domain: " + name, "domains");
      return std::nullopt;
    }
    out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

json::array UsageDomainsJson(const std::map<std::string, DomainDays>& usage, bool hourly) {
  json::array out;
  for (const auto& [domain, days] : usage) {
    json::array rows;
    DayUsage total;
    for (const auto& [day, u] : days) {
      json::object row{{hourly ? "hour" : "day", IsoDay(day)}};
      u.AppendCounts(row);
      row["filtering"] = u.filtering;
      rows.push_back(std::move(row));
      total.AddDay(u);
    }
    json::object t;
    total.AppendCounts(t);
    t["filtering_days"] = total.filtering_days;
    out.push_back(json::object{
        {"domain", domain}, {hourly ? "hours" : "days", std::move(rows)}, {"total", std::move(t)}});
  }
  return out;
}

HttpResponse UsageCsv(const DayRange& range, const std::map<std::string, DomainDays>& usage) {
  std::vector<std::tuple<std::string, std::string, const DayUsage*>> rows;  // day, domain
  for (const auto& [domain, days] : usage)
    for (const auto& [day, u] : days) rows.emplace_back(day, domain, &u);
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
  });
  HttpResponse r;
  r.content_type = "text/csv; charset=utf-8";
  r.headers.emplace_back(
      "Content-Disposition",
      "attachment; filename=\"usage-" + IsoDay(range.From()) + "-" + IsoDay(range.To()) + ".csv\"");
  r.body = std::string(range.hourly ? "hour" : "day") +
           ",domain,accepted,delivered,deferred,rejected_spam,rejected_virus,bytes,filtering\r\n";
  for (const auto& [day, domain, u] : rows) {
    r.body += CsvField(IsoDay(day)) + "," + CsvField(domain);
    for (uint64_t n :
         {u->accepted, u->delivered, u->deferred, u->rejected_spam, u->rejected_virus, u->bytes})
      r.body += "," + std::to_string(n);
    r.body += u->filtering ? ",true\r\n" : ",false\r\n";
  }
  return r;
}

// Domain-days per reseller from the daily census "k/<YYYYMMDD>/<reseller or ->" in range: the
// operator gets every reseller and "-" (its direct domains), a reseller only itself.
Status ResellerDays(control::ControlPlane& control, const Principal& p, const DayRange& range,
                    json::array* out) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> days;  // reseller -> (active, filtering)
  if (p.is_operator()) {
    days["-"];
    for (const auto& [id, r] : control.resellers()) days[id];
  } else {
    days[p.reseller];
  }
  const std::string from = range.From(), to = range.To();
  Status st =
      control.store().ScanPrefix("k/", [&](const std::string& key, const std::string& text) {
        if (key.size() < 12) return true;
        std::string day = key.substr(2, 8), reseller = key.substr(11);
        if (day < from) return true;
        if (day > to) return false;  // keys sort by day
        if (!p.is_operator() && reseller != p.reseller) return true;
        if (auto o = ParseObject(text)) {
          days[reseller].first += Count(*o, "active");
          days[reseller].second += Count(*o, "filtering");
        }
        return true;
      });
  if (!st.ok()) return st;
  for (const auto& [id, n] : days) {
    const control::Reseller* r = id == "-" ? nullptr : control.FindReseller(id);
    out->push_back(json::object{{"reseller", id},
                                {"name", r ? json::value(r->name) : json::value(nullptr)},
                                {"active_domain_days", n.first},
                                {"filtering_domain_days", n.second}});
  }
  return Status::Ok();
}

// ---- test alerts ----

struct PlannedChannel {
  size_t contact = 0;
  const char* channel = "email";
  std::string to;
};

// What a test sends, in the alert engine's order: email, sms (when alerts.sms is set), webhook.
std::vector<PlannedChannel> PlanChannels(const control::Customer& c, std::optional<size_t> only,
                                         bool sms) {
  std::vector<PlannedChannel> out;
  for (size_t i = 0; i < c.contacts.size(); ++i) {
    if (only && *only != i) continue;
    const control::Contact& k = c.contacts[i];
    if (!k.email.empty()) out.push_back({i, "email", k.email});
    if (sms && !k.phone.empty()) out.push_back({i, "sms", k.phone});
    if (!k.webhook.empty()) out.push_back({i, "webhook", k.webhook});
  }
  return out;
}

// The optional body {"contact": <index>}: true with *contact set (or not); false with *err.
bool ParseTestBody(const HttpRequest& req, std::optional<size_t>* contact, HttpResponse* err) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return true;
  auto body = ParseObjectBody(req, err);
  if (!body) return false;
  for (const auto& [k, v] : *body) {
    if (k != "contact") {
      *err = Unprocessable({std::string(k), "unknown field"});
      return false;
    }
    if (v.is_null()) continue;
    if (v.is_uint64() || (v.is_int64() && v.as_int64() >= 0)) {
      *contact = v.is_uint64() ? v.as_uint64() : static_cast<uint64_t>(v.as_int64());
      continue;
    }
    *err = Unprocessable({"contact", "must be a contact's index (0, 1, ...)"});
    return false;
  }
  return true;
}

}  // namespace

bool SeesRecord(const Principal& p, const json::object& record) {
  if (p.is_operator()) return true;
  if (p.is_customer()) return Str(record, "customer") == p.customer;
  return !p.reseller.empty() && Str(record, "reseller") == p.reseller;
}

json::array RecentAlerts(ControlStore& store, const Principal& p, const std::string& domain,
                         size_t limit) {
  NewestEvents page(limit);
  json::array out;
  if (domain.empty() || domain.find('/') != std::string::npos) return out;
  Status st = ScanEvents(store, p, "a/" + domain + "/", std::nullopt, &page);
  if (!st.ok()) log::Error("alerts_read_failed").kv("domain", domain).kv("detail", st.message());
  for (auto& [k, e] : page.events()) out.push_back(std::move(e));
  return out;
}

json::array StatusHistory(ControlStore& store, const std::string& domain, size_t limit) {
  std::deque<json::object> newest;  // oldest first while scanning (keys sort by `from`)
  json::array out;
  if (domain.empty() || domain.find('/') != std::string::npos || limit == 0) return out;
  Status st = store.ScanPrefix("h/" + domain + "/", [&](const std::string&, const std::string& t) {
    if (auto o = ParseObject(t)) {
      newest.push_back(std::move(*o));
      if (newest.size() > limit) newest.pop_front();
    }
    return true;
  });
  if (!st.ok()) log::Error("history_read_failed").kv("domain", domain).kv("detail", st.message());
  for (auto it = newest.rbegin(); it != newest.rend(); ++it) out.push_back(std::move(*it));
  return out;
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

HttpResponse AlertApi::Handle(const Principal& p, const HttpRequest& req, const Route& r) {
  switch (r.endpoint) {
    case Endpoint::kAlerts:
      return Alerts(p, r);
    case Endpoint::kUsage:
      return Usage(p, r);
    case Endpoint::kContactsTest:
      return TestContacts(p, req, r);
    default:
      return FieldReply(404, "no such endpoint", "");
  }
}

HttpResponse AlertApi::Alerts(const Principal& p, const Route& r) {
  HttpResponse err;
  auto limit = LimitParam(r.query, kDefaultAlerts, kMaxAlerts, &err);
  if (!limit) return err;
  std::optional<EventOrder> before;
  if (auto it = r.query.find("before"); it != r.query.end() && !it->second.empty()) {
    before = ParseCursor(it->second);
    if (!before) return FieldReply(400, "before must be the `next` of an earlier page", "before");
  }
  auto domain = DomainParam(control_, p, r.query, &err);
  if (!domain) return err;
  // Without a domain this reads every event in the store and keeps the caller's: fine at
  // today's volumes; an index by reseller and customer would bound it.
  NewestEvents page(*limit + 1);
  std::string prefix = domain->empty() ? "a/" : "a/" + *domain + "/";
  Status st = ScanEvents(control_.store(), p, prefix, before, &page);
  if (!st.ok()) return FieldReply(503, "control store read failed: " + st.message(), "");
  bool more = page.events().size() > *limit;
  json::array alerts;
  json::value next = nullptr;
  for (auto& [k, e] : page.events()) {
    if (alerts.size() == *limit) break;
    if (more) next = Cursor(k);
    alerts.push_back(std::move(e));
  }
  return JsonReply(200, json::object{{"alerts", std::move(alerts)}, {"next", std::move(next)}});
}

HttpResponse AlertApi::Usage(const Principal& p, const Route& r) {
  HttpResponse err;
  auto range = ParseRange(r.query, control::ControlPlane::NowMs() / kDayMs, &err);
  if (!range) return err;
  std::string format = "json";
  if (auto it = r.query.find("format"); it != r.query.end() && !it->second.empty())
    format = it->second;
  if (format != "json" && format != "csv")
    return FieldReply(422, "format: must be json or csv", "format");
  auto domains = UsageDomains(control_, p, r.query, &err);
  if (!domains) return err;
  // One prefix scan per domain, cut at the range's end (keys sort by hour).
  std::map<std::string, DomainDays> usage;
  for (const auto& d : *domains) {
    Status st = ScanUsage(control_.store(), p, d, *range, &usage[d]);
    if (!st.ok()) return FieldReply(503, "control store read failed: " + st.message(), "");
  }
  if (format == "csv") return UsageCsv(*range, usage);
  json::object out{{"from", IsoDay(range->From())},
                   {"to", IsoDay(range->To())},
                   {"granularity", range->hourly ? "hour" : "day"},
                   {"domains", UsageDomainsJson(usage, range->hourly)}};
  if (!p.is_customer()) {
    json::array resellers;
    Status st = ResellerDays(control_, p, *range, &resellers);
    if (!st.ok()) return FieldReply(503, "control store read failed: " + st.message(), "");
    out["resellers"] = std::move(resellers);
  }
  return JsonReply(200, out);
}

HttpResponse AlertApi::TestContacts(const Principal& p, const HttpRequest& req, const Route& r) {
  const control::Customer* c = control_.FindCustomer(r.id);
  if (!c || !control_.SeesCustomer(p, r.id)) return FieldReply(404, "no such customer", "");
  std::optional<size_t> contact;
  HttpResponse err;
  if (!ParseTestBody(req, &contact, &err)) return err;
  if (c->contacts.empty()) return Unprocessable({"contacts", "the customer has no contacts"});
  if (contact && *contact >= c->contacts.size())
    return Unprocessable({"contact", "no such contact (the customer has " +
                                         std::to_string(c->contacts.size()) + ")"});
  auto cfg = config_ ? config_() : nullptr;
  bool sms = cfg && cfg->alerts.sms.kind != config::SmsKind::kNone;
  std::vector<PlannedChannel> plan = PlanChannels(*c, contact, sms);
  if (plan.empty())
    return Unprocessable({contact ? "contact" : "contacts",
                          "nothing to send to: no email, webhook, or phone (with alerts.sms)"});
  if (!send_test_) return FieldReply(503, "alerts are not running", "");
  const std::string customer = c->id, reseller = c->reseller;
  json::array channels;
  for (const auto& ch : plan)
    channels.push_back(
        json::object{{"contact", ch.contact}, {"channel", ch.channel}, {"to", ch.to}});
  // Audited before it is sent: no test goes out unaudited.
  control::Mutation m;
  m.audit.push_back({"contact.test", customer,
                     json::object{{"contact", contact ? json::value(*contact) : json::value()},
                                  {"channels", plan.size()}},
                     reseller, customer});
  Status st = control_.Apply(p, req.client_ip, std::move(m));
  if (!st.ok()) return FieldReply(503, "control store write failed: " + st.message(), "");
  std::string id;
  try {
    id = send_test_(customer, contact);
  } catch (const std::exception& e) {
    log::Error("test_alert_failed").kv("customer", customer).kv("detail", e.what());
  }
  if (id.empty()) return FieldReply(503, "the test alert could not be made", "");
  return JsonReply(202, json::object{{"id", id}, {"channels", std::move(channels)}});
}

}  // namespace sw::admin
