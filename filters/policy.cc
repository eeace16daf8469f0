// Owns the filtering policy of SPEC section 6: filter results + domain settings -> one Verdict,
// and which domains may share a transaction. Pure functions; nothing here fails or blocks.
#include "filters/policy.h"

#include <strings.h>

#include <cctype>
#include <cstdio>

namespace sw::filters {

namespace {

bool IEquals(const std::string& a, const char* b) { return strcasecmp(a.c_str(), b) == 0; }

bool OwnedHeader(const std::string& name) {
  return IEquals(name, kSpamFlagHeader) || IEquals(name, kSpamScoreHeader) ||
         IEquals(name, kSpamStatusHeader) || IEquals(name, kUnscannedHeader);
}

// A virus name for a reply or header: printable ASCII without spaces, bounded.
std::string Printable(const std::string& s, size_t max = 100) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) break;
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u > 0x20 && u < 0x7F ? c : '_');
  }
  return out;
}

}  // namespace

std::string FormatScore(double score) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", score);
  std::string s = buf;
  if (s == "-0.00") s = "0.00";
  return s;
}

std::string SpamStatusValue(bool spam, double score, double required,
                            const std::vector<Symbol>& symbols) {
  std::string out = std::string(spam ? "Yes" : "No") + ", score=" + FormatScore(score) +
                    " required=" + FormatScore(required);
  std::string tests;
  for (const auto& s : symbols) {
    if (s.score == 0) continue;
    tests += (tests.empty() ? "" : ",") + s.name;
  }
  if (tests.empty()) return out;
  // Fold at commas so no line exceeds 78 octets ("X-Spam-Status: " is 15 of the first).
  size_t col = 15 + out.size();
  out += " tests=";
  col += 7;
  size_t pos = 0;
  while (pos < tests.size()) {
    size_t comma = tests.find(',', pos);
    size_t end = comma == std::string::npos ? tests.size() : comma + 1;
    size_t len = end - pos;
    if (col + len > 78 && col > 1) {
      out += "\r\n\t";
      col = 1;
    }
    out.append(tests, pos, len);
    col += len;
    pos = end;
  }
  return out;
}

Verdict Unfiltered() { return Verdict{}; }

bool SamePolicy(const config::DomainConfig& a, const config::DomainConfig& b) {
  if (a.filtering != b.filtering) return false;
  if (!a.filtering) return true;
  return a.spam.tag_score == b.spam.tag_score && a.spam.reject_score == b.spam.reject_score &&
         a.spam.subject_tag == b.spam.subject_tag && a.virus == b.virus;
}

namespace {

// Every filter's time, failure and virus into `v`; returns the first spam score, if any.
const FilterResult* Collect(const std::vector<PolicyInput>& inputs, Verdict& v,
                            bool* tempfail_failure) {
  const FilterResult* spam = nullptr;
  for (const auto& in : inputs) {
    const FilterResult& r = in.result;
    v.filter_ms.emplace_back(r.filter, r.ms);
    if (!r.ok()) {
      v.failures.push_back(r.filter + ": " + r.error);
      if (in.on_failure == config::OnFailure::kTempfail) {
        *tempfail_failure = true;
      } else {
        v.unscanned.push_back(r.filter);
      }
      continue;
    }
    if (!r.virus.empty() && v.virus.empty()) v.virus = r.virus;
    if (r.has_score && !spam) spam = &r;
  }
  if (spam) {
    v.score = spam->score;
    v.required = spam->required_score;
    v.action = spam->action;
    v.symbols = spam->symbols;
  }
  return spam;
}

Verdict Refused(Verdict v, Disposition d, int code, const char* enhanced, std::string text,
                const char* reason) {
  v.disposition = d;
  v.code = code;
  v.enhanced = enhanced;
  v.text = std::move(text);
  v.reason = reason;
  return v;
}

// Accepted: header changes. Client copies of our own headers never survive.
void AcceptHeaders(const config::DomainConfig& domain, const FilterResult* spam, bool tag,
                   Verdict& v) {
  for (const char* h : {kSpamFlagHeader, kSpamScoreHeader, kSpamStatusHeader, kUnscannedHeader})
    v.remove_headers.push_back({h, 0});
  if (spam) {
    for (const auto& r : spam->remove_headers)
      if (!OwnedHeader(r.name)) v.remove_headers.push_back(r);
    if (tag) v.add_headers.push_back({kSpamFlagHeader, "YES"});
    v.add_headers.push_back({kSpamScoreHeader, FormatScore(spam->score)});
    v.add_headers.push_back(
        {kSpamStatusHeader, SpamStatusValue(tag, spam->score, v.required, spam->symbols)});
    for (const auto& h : spam->add_headers)
      if (!OwnedHeader(h.name)) v.add_headers.push_back(h);
    if (tag) {
      if (!domain.spam.tag_score && spam->action == "rewrite subject" && !spam->subject.empty())
        v.new_subject = spam->subject;
      else
        v.subject_prefix = domain.spam.subject_tag;
    }
  }
  if (!v.unscanned.empty()) {
    std::string names;
    for (const auto& n : v.unscanned) names += (names.empty() ? "" : ", ") + n;
    v.add_headers.push_back({kUnscannedHeader, names});
  }
}

}  // namespace

Verdict Decide(const config::DomainConfig& domain, const std::vector<PolicyInput>& inputs) {
  Verdict v;
  v.scanned = true;
  bool tempfail_failure = false;
  const FilterResult* spam = Collect(inputs, v, &tempfail_failure);

  // Rejections: a virus first, then spam.
  if (!v.virus.empty() && domain.virus == config::VirusAction::kReject) {
    std::string text = "Message rejected: virus found (" + Printable(v.virus) + ")";
    return Refused(std::move(v), Disposition::kReject, 554, "5.7.1", std::move(text), "virus");
  }
  bool reject = false;
  bool tag = false;
  if (spam) {
    const auto& sp = domain.spam;
    bool rspamd_reject = spam->action == "reject";
    reject = sp.reject_score ? (spam->score >= *sp.reject_score || (spam->forced && rspamd_reject))
                             : rspamd_reject;
    tag = sp.tag_score ? spam->score >= *sp.tag_score
                       : (spam->action == "add header" || spam->action == "rewrite subject");
    if (sp.tag_score) v.required = *sp.tag_score;
  }
  if (reject)
    return Refused(std::move(v), Disposition::kReject, 550, "5.7.1", "Message rejected as spam",
                   "spam");
  if (tempfail_failure)
    return Refused(std::move(v), Disposition::kTempfail, 451, "4.7.1",
                   "Message could not be scanned, try again later", "scanner failed");
  if (spam && spam->action == "soft reject")
    return Refused(std::move(v), Disposition::kTempfail, 451, "4.7.1", "Try again later",
                   "soft reject");
  v.disposition = tag ? Disposition::kTag : Disposition::kAccept;
  v.code = 250;
  AcceptHeaders(domain, spam, tag, v);
  return v;
}

}  // namespace sw::filters
