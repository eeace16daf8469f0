// Owns the `spamweeder domains` and `spamweeder tokens` commands: a client of the provisioning API.
// Fails by exit status: 0 ok, 1 daemon unreachable or API error, 2 usage or config error.
#include "admin/provision_cli.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <thread>

#include "admin/http_client.h"
#include "config/config.h"

namespace sw::admin {

namespace json = boost::json;

namespace {

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

// What a command accepts besides the global options.
struct CommandSpec {
  std::string_view group;
  std::string_view name;
  size_t words;                           // positional arguments after the command
  std::vector<std::string_view> options;  // options that take a value
  bool json;                              // --json allowed
};

const std::vector<std::string_view> kDomainOptions = {
    "--dest",         "--customer",    "--filtering", "--tag-score",
    "--reject-score", "--subject-tag", "--virus",     "--tls"};

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> specs = [] {
    std::vector<std::string_view> set_options = kDomainOptions;
    set_options.push_back("--version");
    return std::vector<CommandSpec>{
        {"domains", "list", 0, {"--search"}, true},
        {"domains", "show", 1, {}, true},
        {"domains", "add", 1, kDomainOptions, true},
        {"domains", "set", 1, set_options, true},
        {"domains", "delete", 1, {}, false},
        {"tokens", "create", 0, {"--account", "--role", "--name"}, true},
        {"tokens", "list", 0, {}, true},
        {"tokens", "revoke", 1, {}, false},
    };
  }();
  return specs;
}

const CommandSpec* FindCommand(std::string_view group, std::string_view name) {
  for (const auto& c : Commands())
    if (c.group == group && c.name == name) return &c;
  return nullptr;
}

// Every option that takes a value, in any command.
bool TakesValue(std::string_view option) {
  if (option == "--search" || option == "--version") return true;
  for (const auto& c : Commands())
    if (std::find(c.options.begin(), c.options.end(), option) != c.options.end()) return true;
  return false;
}

// The words of the command line, globals taken out.
struct Words {
  std::vector<std::string> positional;  // the command first
  std::map<std::string, std::vector<std::string>, std::less<>> options;
};

// Splits `args` into globals (into *out), options and positional words.
std::string Tokenize(const std::vector<std::string>& args, ProvisionArgs* out, Words* w) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* into) {
      if (i + 1 >= args.size()) return false;
      *into = args[++i];
      return true;
    };
    if (a == "-h" || a == "--help") {
      out->help = true;
    } else if (a == "-c" || a == "--config") {
      if (!value(&out->config_path)) return a + " needs a file";
    } else if (a == "--admin") {
      if (!value(&out->admin)) return "--admin needs IP:PORT";
    } else if (a == "--token") {
      if (!value(&out->token) || out->token.empty()) return "--token needs a token";
    } else if (a == "--json") {
      out->json = true;
    } else if (TakesValue(a)) {
      std::string v;
      if (!value(&v)) return a + " needs a value";
      w->options[a].push_back(v);
    } else if (a.size() > 1 && a[0] == '-') {
      return "unknown option " + a;
    } else {
      w->positional.push_back(a);
    }
  }
  return "";
}

// The single value of `option` (nullopt when absent); *problem set when given twice.
std::optional<std::string> One(const Words& w, std::string_view option, std::string* problem) {
  auto it = w.options.find(option);
  if (it == w.options.end()) return std::nullopt;
  if (it->second.size() > 1) *problem = std::string(option) + " given twice";
  return it->second.back();
}

// A score: an optional '-', digits, optionally '.' and digits. Integers stay integers.
bool ParseScore(const std::string& s, json::value* v) {
  if (s.empty()) return false;
  size_t i = s[0] == '-' ? 1 : 0, digits = 0, dots = 0;
  for (size_t k = i; k < s.size(); ++k) {
    if (s[k] == '.') {
      if (++dots > 1 || digits == 0 || k + 1 == s.size()) return false;
    } else if (s[k] >= '0' && s[k] <= '9') {
      ++digits;
    } else {
      return false;
    }
  }
  if (digits == 0) return false;
  if (dots == 0) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || p != s.data() + s.size()) return false;
    *v = n;
  } else {
    *v = std::strtod(s.c_str(), nullptr);
  }
  return true;
}

// The `spam` keys given (tag_score, reject_score, subject_tag), or a problem.
std::string SpamFields(const Words& w, json::object* spam) {
  std::string problem;
  for (auto [option, key] :
       {std::pair{"--tag-score", "tag_score"}, std::pair{"--reject-score", "reject_score"}}) {
    auto v = One(w, option, &problem);
    if (!v) continue;
    json::value n;
    if (!ParseScore(*v, &n)) return std::string(option) + ": not a number: " + *v;
    (*spam)[key] = n;
  }
  if (auto v = One(w, "--subject-tag", &problem)) (*spam)["subject_tag"] = *v;
  return problem;
}

// The domain keys the options give, in the API's order; a problem for a bad value.
std::string DomainFields(const Words& w, json::object* body) {
  std::string problem;
  if (auto v = One(w, "--customer", &problem)) {
    if (v->empty()) return "--customer needs an ID";
    (*body)["customer"] = *v;
  }
  if (auto it = w.options.find("--dest"); it != w.options.end()) {
    json::array dests;
    for (const auto& d : it->second) {
      if (d.empty()) return "--dest needs a destination";
      dests.emplace_back(d);
    }
    (*body)["destinations"] = std::move(dests);
  }
  if (auto v = One(w, "--filtering", &problem)) {
    if (*v != "on" && *v != "off") return "--filtering must be on or off";
    (*body)["filtering"] = *v == "on";
  }
  json::object spam;
  if (std::string p = SpamFields(w, &spam); !p.empty()) return p;
  if (!spam.empty()) (*body)["spam"] = std::move(spam);
  if (auto v = One(w, "--virus", &problem)) (*body)["virus"] = *v;
  if (auto v = One(w, "--tls", &problem)) {
    if (*v != "opportunistic" && *v != "required" && *v != "verify")
      return "--tls must be opportunistic, required or verify";
    (*body)["tls"] = *v;
  }
  return problem;
}

std::string DomainTarget(const std::string& name) { return "/api/v1/domains/" + UrlEncode(name); }

// The request of a `domains` command whose words and options were checked against its spec.
std::string DomainRequest(const std::string& cmd, const Words& w, ProvisionRequest* r) {
  std::string problem;
  const std::string name = w.positional.size() > 1 ? w.positional[1] : "";
  if (cmd == "list") {
    auto search = One(w, "--search", &problem);
    *r = {"GET", "/api/v1/domains" + (search ? "?search=" + UrlEncode(*search) : ""), ""};
  } else if (cmd == "show" || cmd == "delete") {
    *r = {cmd == "show" ? "GET" : "DELETE", DomainTarget(name), ""};
  } else if (cmd == "add") {
    json::object body;
    body["name"] = name;
    if (std::string p = DomainFields(w, &body); !p.empty()) return p;
    if (!body.contains("destinations")) return "add needs at least one --dest";
    *r = {"POST", "/api/v1/domains", json::serialize(body)};
  } else {  // set
    json::object body;
    if (std::string p = DomainFields(w, &body); !p.empty()) return p;
    if (auto v = One(w, "--version", &problem)) {
      uint64_t n = 0;
      auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (v->empty() || ec != std::errc() || p != v->data() + v->size())
        return "--version must be a whole number";
      body["version"] = n;
    }
    if (body.empty()) return "set: nothing to change";
    *r = {"PATCH", DomainTarget(name), json::serialize(body)};
  }
  return problem;
}

// The request of a `tokens` command whose words and options were checked against its spec.
std::string TokenRequest(const std::string& cmd, const Words& w, ProvisionRequest* r) {
  std::string problem;
  if (cmd == "list") {
    *r = {"GET", "/api/v1/tokens", ""};
  } else if (cmd == "revoke") {
    *r = {"DELETE", "/api/v1/tokens/" + UrlEncode(w.positional[1]), ""};
  } else {  // create
    auto account = One(w, "--account", &problem);
    auto role = One(w, "--role", &problem);
    auto name = One(w, "--name", &problem);
    if (!account || account->empty()) return "create needs --account ID";
    if (!role) return "create needs --role admin|read";
    if (*role != "admin" && *role != "read") return "--role must be admin or read";
    json::object body;
    body["account"] = *account;
    body["role"] = *role;
    if (name) body["name"] = *name;
    *r = {"POST", "/api/v1/tokens", json::serialize(body)};
  }
  return problem;
}

// Checks the words against the command's spec (arity, options, --json).
std::string CheckSpec(const CommandSpec& spec, const ProvisionArgs& a, const Words& w) {
  const std::string cmd(spec.name);
  if (w.positional.size() - 1 > spec.words)
    return cmd + ": unexpected argument " + w.positional[spec.words + 1];
  if (w.positional.size() - 1 < spec.words)
    return cmd + " needs " + (spec.group == "domains" ? "a domain NAME" : "a token ID");
  for (const auto& [option, values] : w.options)
    if (std::find(spec.options.begin(), spec.options.end(), option) == spec.options.end())
      return option + " is not an option of " + cmd;
  if (a.json && !spec.json) return cmd + ": --json is not supported";
  if (spec.words == 1 && w.positional[1].empty()) return cmd + " needs a non-empty argument";
  return "";
}

std::string Column(const std::string& s, size_t width) {
  return s + std::string(width > s.size() ? width - s.size() : 0, ' ');
}

}  // namespace

std::string ParseProvisionArgs(std::string_view group, const std::vector<std::string>& args,
                               ProvisionArgs* out) {
  *out = ProvisionArgs{};
  if (group != "domains" && group != "tokens") return "unknown command " + std::string(group);
  Words w;
  if (std::string p = Tokenize(args, out, &w); !p.empty()) return p;
  if (out->help) return "";
  if (out->config_path.empty() && out->admin.empty()) return "-c FILE (or --admin) is required";
  if (w.positional.empty()) return "a command is required";
  out->command = w.positional[0];
  if (w.positional.size() > 1) out->object = w.positional[1];
  const CommandSpec* spec = FindCommand(group, out->command);
  if (!spec) return "unknown command " + out->command;
  if (std::string p = CheckSpec(*spec, *out, w); !p.empty()) return p;
  return group == "domains" ? DomainRequest(out->command, w, &out->request)
                            : TokenRequest(out->command, w, &out->request);
}

std::string ProvisionUsage(std::string_view group) {
  std::string u = "usage: spamweeder " + std::string(group) +
                  " -c FILE [--admin IP:PORT] [--token TOKEN] COMMAND\n";
  if (group == "tokens") {
    u += "  create --account ID --role admin|read [--name N] [--json]\n"
         "  list [--json]\n"
         "  revoke ID\n";
  } else {
    u += "  list [--search S] [--json]\n"
         "  show NAME [--json]\n"
         "  add NAME --dest D [--dest D2 ...] [--customer ID] [--filtering on|off]\n"
         "      [--tag-score X] [--reject-score X] [--subject-tag T] [--virus V]\n"
         "      [--tls opportunistic|required|verify] [--json]\n"
         "  set NAME [the add options] [--version N] [--json]   (changes only the given keys)\n"
         "  delete NAME\n";
  }
  u += "The daemon's address and operator token come from FILE (admin.listen, admin.token);\n"
       "--admin overrides the address, --token (or SW_TOKEN) the token (a reseller's or\n"
       "customer's). Without -c, give --admin and a token.\n";
  return u;
}

namespace {

// Human text of a JSON scalar: strings as they are, numbers without exponent, null as "".
std::string Text(const json::value* v) {
  if (!v || v->is_null()) return "";
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_bool()) return v->get_bool() ? "true" : "false";
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  if (v->is_double()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v->get_double());
    return buf;
  }
  return json::serialize(*v);
}

std::string Text(const json::object& o, std::string_view key) { return Text(o.if_contains(key)); }

std::string OrDash(std::string s) { return s.empty() ? "-" : s; }

// An array of strings as "a, b" ("" when absent).
std::string Joined(const json::object& o, std::string_view key) {
  std::string s;
  if (auto* a = o.if_contains(key); a && a->is_array())
    for (const auto& e : a->get_array()) s += (s.empty() ? "" : ", ") + Text(&e);
  return s;
}

std::string OnOff(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_bool()) return Text(v);
  return v->get_bool() ? "on" : "off";
}

// Left-aligned columns, two spaces apart; the first row is the header.
void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) {
      if (widths.size() <= c) widths.push_back(0);
      widths[c] = std::max(widths[c], row[c].size());
    }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c)
      line += c + 1 == row.size() ? row[c] : Column(row[c], widths[c] + 2);
    out << line << "\n";
  }
}

// A domain object as "Key: value" lines.
void PrintDomain(std::ostream& out, const json::object& d) {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Name", Text(d, "name")},
      {"State", Text(d, "state")},
      {"Source", Text(d, "source")},
      {"Customer", OrDash(Text(d, "customer"))},
      {"Destinations", Joined(d, "destinations")},
      {"Filtering", OnOff(d, "filtering")},
  };
  if (auto* s = d.if_contains("spam"); s && s->is_object()) {
    const auto& spam = s->get_object();
    rows.push_back({"Spam", "tag_score " + Text(spam, "tag_score") + ", reject_score " +
                                Text(spam, "reject_score") + ", subject_tag \"" +
                                Text(spam, "subject_tag") + "\""});
  }
  rows.insert(rows.end(), {{"Virus", Text(d, "virus")},
                           {"TLS", Text(d, "tls")},
                           {"Recipients", OrDash(Joined(d, "recipients"))},
                           {"Recipient verification", Text(d, "recipient_verification")},
                           {"Version", Text(d, "version")},
                           {"Created", Text(d, "created_at")},
                           {"Updated", Text(d, "updated_at")}});
  if (auto* v = d.if_contains("verification"); v && v->is_object()) {
    const auto& ver = v->get_object();
    rows.push_back({"Verification", Text(ver, "type") + " record " + Text(ver, "record") + " = \"" +
                                        Text(ver, "value") + "\""});
  }
  for (const auto& [key, value] : rows)
    if (!value.empty()) out << Column(key + ":", 24) << value << "\n";
}

void PrintDomainList(std::ostream& out, const json::array& domains) {
  if (domains.empty()) {
    out << "No domains\n";
    return;
  }
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "STATE", "SOURCE", "CUSTOMER", "FILTERING", "TLS", "DESTINATIONS"}};
  for (const auto& v : domains) {
    if (!v.is_object()) continue;
    const auto& d = v.get_object();
    rows.push_back({Text(d, "name"), Text(d, "state"), Text(d, "source"),
                    OrDash(Text(d, "customer")), OnOff(d, "filtering"), Text(d, "tls"),
                    Joined(d, "destinations")});
  }
  PrintTable(out, rows);
  out << domains.size() << (domains.size() == 1 ? " domain\n" : " domains\n");
}

void PrintTokenList(std::ostream& out, const json::array& tokens) {
  if (tokens.empty()) {
    out << "No tokens\n";
    return;
  }
  std::vector<std::vector<std::string>> rows = {
      {"ID", "ACCOUNT", "ROLE", "NAME", "CREATED", "LAST USED"}};
  for (const auto& v : tokens) {
    if (!v.is_object()) continue;
    const auto& t = v.get_object();
    rows.push_back({Text(t, "id"), Text(t, "account"), Text(t, "role"), OrDash(Text(t, "name")),
                    Text(t, "created_at"), OrDash(Text(t, "last_used_at"))});
  }
  PrintTable(out, rows);
}

void PrintCreatedToken(std::ostream& out, const json::object& t) {
  out << "Created token " << Text(t, "id") << " (account " << Text(t, "account") << ", role "
      << Text(t, "role") << (Text(t, "name").empty() ? "" : ", name " + Text(t, "name")) << ").\n"
      << "Token (shown only this once; only its hash is stored):\n\n"
      << "    " << Text(t, "token") << "\n\n";
}

class Client {
 public:
  Client(HttpClient& http, std::ostream& err) : http_(http), err_(err) {}

  // Sends `r`; on a 2xx answer fills *doc (null for an empty body) and *raw and returns true;
  // otherwise prints `spamweeder: STATUS: ERROR (field: FIELD)` and returns false. A 429 is
  // retried after its Retry-After (at most 10 s, three tries).
  bool Send(const ProvisionRequest& r, json::value* doc, std::string* raw) {
    HttpResult res;
    for (int attempt = 1;; ++attempt) {
      res = http_.Call(r.method, r.target, HttpCallOptions{r.body, {}});
      if (!res.ok || res.status != 429 || attempt == 3) break;
      int wait = std::clamp(std::atoi(res.Header("Retry-After").c_str()), 1, 10);
      std::this_thread::sleep_for(std::chrono::seconds(wait));
    }
    if (!res.ok) {
      err_ << "spamweeder: daemon unreachable: " << res.error << "\n";
      return false;
    }
    boost::system::error_code ec;
    json::value v = res.body.empty() ? json::value() : json::parse(res.body, ec);
    if (res.status < 200 || res.status > 299) {
      PrintApiError(res, ec || !v.is_object() ? nullptr : &v.get_object());
      return false;
    }
    if (ec) {
      err_ << "spamweeder: bad response from daemon: " << ec.message() << "\n";
      return false;
    }
    *raw = res.body;
    *doc = std::move(v);
    return true;
  }

  // Every item under `key` of the list at `first`, following `next` from page to page.
  bool ListAll(ProvisionRequest page, std::string_view key, json::array* items) {
    const std::string base = page.target;
    for (int pages = 0; pages < 100000; ++pages) {
      json::value doc;
      std::string raw;
      if (!Send(page, &doc, &raw)) return false;
      const json::value* list = doc.is_array() ? &doc : nullptr;
      if (doc.is_object()) list = doc.get_object().if_contains(key);
      if (!list || !list->is_array()) return BadAnswer("no \"" + std::string(key) + "\" list");
      for (const auto& e : list->get_array()) items->push_back(e);
      std::string next = doc.is_object() ? Text(doc.get_object(), "next") : "";
      if (next.empty()) return true;
      page.target =
          base + (base.find('?') == std::string::npos ? "?" : "&") + "after=" + UrlEncode(next);
    }
    return BadAnswer("too many pages");
  }

  bool BadAnswer(const std::string& why) {
    err_ << "spamweeder: bad response from daemon: " << why << "\n";
    return false;
  }

 private:
  void PrintApiError(const HttpResult& res, const json::object* o) {
    std::string error = o ? Text(*o, "error") : res.body;
    while (!error.empty() && (error.back() == '\n' || error.back() == '\r')) error.pop_back();
    std::string field = o ? Text(*o, "field") : "";
    err_ << "spamweeder: " << res.status << ": " << (error.empty() ? "(no error text)" : error)
         << (field.empty() ? "" : " (field: " + field + ")") << "\n";
    if (res.status == 429) err_ << "retry after " << res.Header("Retry-After") << " s\n";
  }

  HttpClient& http_;
  std::ostream& err_;
};

// A domain answer: the object itself, or wrapped as {"domain": {...}}.
const json::object* DomainOf(const json::value& doc) {
  if (!doc.is_object()) return nullptr;
  const auto& o = doc.get_object();
  if (auto* d = o.if_contains("domain"); d && d->is_object() && !o.contains("name"))
    return &d->get_object();
  return &o;
}

int RunDomains(const ProvisionArgs& a, Client& cli, std::ostream& out) {
  const std::string& cmd = a.command;
  if (cmd == "list") {
    json::array domains;
    if (!cli.ListAll(a.request, "domains", &domains)) return kFailed;
    if (a.json)
      out << json::serialize(json::object{{"domains", domains}}) << "\n";
    else
      PrintDomainList(out, domains);
    return kOk;
  }
  json::value doc;
  std::string raw;
  if (!cli.Send(a.request, &doc, &raw)) return kFailed;
  if (cmd == "delete") {
    out << a.object << ": deleted\n";
    return kOk;
  }
  if (a.json) {
    out << raw << (raw.empty() || raw.back() != '\n' ? "\n" : "");
    return kOk;
  }
  const json::object* d = DomainOf(doc);
  if (!d) {
    cli.BadAnswer("not a domain object");
    return kFailed;
  }
  PrintDomain(out, *d);
  return kOk;
}

int RunTokens(const ProvisionArgs& a, Client& cli, std::ostream& out) {
  const std::string& cmd = a.command;
  if (cmd == "list") {
    json::array tokens;
    if (!cli.ListAll(a.request, "tokens", &tokens)) return kFailed;
    if (a.json)
      out << json::serialize(json::object{{"tokens", tokens}}) << "\n";
    else
      PrintTokenList(out, tokens);
    return kOk;
  }
  json::value doc;
  std::string raw;
  if (!cli.Send(a.request, &doc, &raw)) return kFailed;
  if (cmd == "revoke") {
    out << a.object << ": revoked\n";
    return kOk;
  }
  if (a.json) {
    out << raw << (raw.empty() || raw.back() != '\n' ? "\n" : "");
    return kOk;
  }
  if (!doc.is_object() || Text(doc.get_object(), "token").empty()) {
    cli.BadAnswer("no token in the answer");
    return kFailed;
  }
  PrintCreatedToken(out, doc.get_object());
  return kOk;
}

// The daemon's address and the bearer token, from the config and the overrides.
struct Endpoint {
  std::string host;
  uint16_t port = 0;
  std::string token;
};

// Fills *e; returns "" or the problem (a usage error), config errors printed to `err`.
std::string Resolve(const ProvisionArgs& a, std::ostream& err, Endpoint* e, bool* config_bad) {
  config::ListenAddress addr;
  if (!a.config_path.empty()) {
    try {
      config::Config cfg = config::LoadConfig(a.config_path);
      addr = cfg.admin.listen;
      e->token = cfg.admin.token;
    } catch (const config::ConfigError& ex) {
      for (const auto& p : ex.problems()) err << p << "\n";
      *config_bad = true;
      return "bad config";
    }
  }
  if (!a.admin.empty()) {
    auto parsed = config::ParseListenAddress(a.admin);
    if (!parsed) return "--admin: bad address " + a.admin;
    addr = *parsed;
  }
  if (addr.port == 0) return "admin.listen has port 0; give the daemon's port with --admin";
  const char* env = std::getenv("SW_TOKEN");
  if (!a.token.empty())
    e->token = a.token;
  else if (env && *env)
    e->token = env;
  if (e->token.empty()) return "no token: give -c FILE, --token TOKEN or SW_TOKEN";
  // A wildcard listener is reached over loopback.
  e->host = addr.host;
  if (e->host.empty() || e->host == "0.0.0.0") e->host = "127.0.0.1";
  if (e->host == "::") e->host = "::1";
  e->port = addr.port;
  return "";
}

}  // namespace

int ProvisionCommand(std::string_view group, const std::vector<std::string>& args,
                     std::ostream& out, std::ostream& err) {
  const std::string name = "spamweeder " + std::string(group) + ": ";
  ProvisionArgs a;
  if (std::string problem = ParseProvisionArgs(group, args, &a); !problem.empty()) {
    err << name << problem << "\n" << ProvisionUsage(group);
    return kUsage;
  }
  if (a.help) {
    out << ProvisionUsage(group);
    return kOk;
  }
  Endpoint e;
  bool config_bad = false;
  if (std::string problem = Resolve(a, err, &e, &config_bad); !problem.empty()) {
    if (!config_bad) err << name << problem << "\n";
    return kUsage;
  }
  HttpClient http(e.host, e.port, e.token);
  Client cli(http, err);
  return group == "domains" ? RunDomains(a, cli, out) : RunTokens(a, cli, out);
}

}  // namespace sw::admin
