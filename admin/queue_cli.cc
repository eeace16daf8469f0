// Owns the `spamweeder queue` commands (SPEC section 2): a thin client of the admin API.
// Fails by exit status: 0 ok, 1 daemon unreachable or API error, 2 usage or config error.
#include "admin/queue_cli.h"

#include <boost/json.hpp>
#include <cstdio>
#include <optional>

#include "admin/http_client.h"
#include "config/config.h"

namespace sw::admin {

namespace json = boost::json;

namespace {

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

const char kUsageText[] =
    "usage: spamweeder queue -c FILE [--admin IP:PORT] list [--domain D] [--json]\n"
    "       spamweeder queue -c FILE show ID [--json]\n"
    "       spamweeder queue -c FILE summary [--json]\n"
    "       spamweeder queue -c FILE flush|hold|release|delete|bounce (ID... | --domain D | "
    "--all)\n";

struct Options {
  std::string config_path;
  std::string admin;  // --admin override
  std::string command;
  std::vector<std::string> ids;
  std::string domain;
  bool has_domain = false;
  bool all = false;
  bool json = false;
};

// Returns an error text for a usage problem, or "" when `args` parsed.
std::string ParseArgs(const std::vector<std::string>& args, Options* o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* into) {
      if (i + 1 >= args.size()) return false;
      *into = args[++i];
      return true;
    };
    if (a == "-c" || a == "--config") {
      if (!value(&o->config_path)) return a + " needs a file";
    } else if (a == "--admin") {
      if (!value(&o->admin)) return "--admin needs IP:PORT";
    } else if (a == "--domain") {
      if (!value(&o->domain)) return "--domain needs a domain";
      o->has_domain = true;
    } else if (a == "--all") {
      o->all = true;
    } else if (a == "--json") {
      o->json = true;
    } else if (!a.empty() && a[0] == '-') {
      return "unknown option " + a;
    } else if (o->command.empty()) {
      o->command = a;
    } else {
      o->ids.push_back(a);
    }
  }
  if (o->config_path.empty()) return "-c FILE is required";
  if (o->command.empty()) return "a command is required";
  const std::string& c = o->command;
  if (c == "list" || c == "summary") {
    if (!o->ids.empty() || o->all || (c == "summary" && o->has_domain))
      return c + ": unexpected arguments";
  } else if (c == "show") {
    if (o->ids.size() != 1 || o->all || o->has_domain) return "show needs exactly one ID";
  } else if (c == "flush" || c == "hold" || c == "release" || c == "delete" || c == "bounce") {
    int selectors = (!o->ids.empty()) + o->has_domain + o->all;
    if (selectors != 1) return c + " needs IDs, --domain D or --all (one of them)";
    if (o->json) return c + ": --json is not supported";
  } else {
    return "unknown command " + c;
  }
  return "";
}

std::string Str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return "";
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_null()) return "";
  return json::serialize(*v);
}

int64_t Int(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return 0;
}

bool Bool(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

class Cli {
 public:
  Cli(HttpClient& http, std::ostream& out, std::ostream& err) : http_(http), out_(out), err_(err) {}

  // GETs/POSTs `target`; on success fills `doc` (when given) and returns true; otherwise
  // prints why to err and returns false.
  bool Call(std::string_view method, const std::string& target, json::value* doc,
            std::string* raw = nullptr, bool quiet = false) {
    HttpResult r = http_.Call(method, target);
    if (!r.ok) {
      err_ << "spamweeder queue: daemon unreachable: " << r.error << "\n";
      return false;
    }
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (r.status != 200) {
      std::string why = !ec && v.is_object() ? Str(v.as_object(), "error") : r.body;
      if (!quiet) err_ << "spamweeder queue: " << r.status << ": " << why << "\n";
      last_error_ = why;
      return false;
    }
    if (ec || !v.is_object()) {
      err_ << "spamweeder queue: bad response from daemon: " << ec.message() << "\n";
      return false;
    }
    if (raw) *raw = r.body;
    if (doc) *doc = std::move(v);
    return true;
  }

  // Every queued message (in pages), optionally only those for `domain`.
  bool ListAll(const std::string& domain, json::array* messages) {
    std::string after;
    for (;;) {
      std::string target = "/api/v1/queue?limit=1000";
      if (!domain.empty()) target += "&domain=" + UrlEncode(domain);
      if (!after.empty()) target += "&after=" + UrlEncode(after);
      json::value doc;
      if (!Call("GET", target, &doc)) return false;
      auto& o = doc.as_object();
      if (auto* m = o.if_contains("messages"); m && m->is_array())
        for (auto& e : m->get_array()) messages->push_back(e);
      auto* next = o.if_contains("next");
      if (!next || !next->is_string()) return true;
      after = std::string(next->get_string());
    }
  }

  int List(const Options& o) {
    json::array messages;
    if (!ListAll(o.has_domain ? o.domain : "", &messages)) return kFailed;
    if (o.json) {
      json::object doc;
      doc["messages"] = messages;
      out_ << json::serialize(doc) << "\n";
      return kOk;
    }
    if (messages.empty()) {
      out_ << "Mail queue is empty\n";
      return kOk;
    }
    // Postfix mailq layout; '!' after the ID marks a held message.
    char line[512];
    std::snprintf(line, sizeof line, "%-17s %8s %-20s  %s\n", "-Queue ID-", "--Size--",
                  "----Arrival Time----", "-Sender/Recipient-------");
    out_ << line;
    uint64_t bytes = 0;
    for (const auto& mv : messages) {
      if (!mv.is_object()) continue;
      const auto& m = mv.as_object();
      std::string id = Str(m, "id") + (Bool(m, "held") ? "!" : " ");
      std::string sender = Str(m, "sender");
      bytes += static_cast<uint64_t>(Int(m, "size"));
      std::snprintf(line, sizeof line, "%-17s %8lld %-20s  %s\n", id.c_str(),
                    static_cast<long long>(Int(m, "size")), Str(m, "arrival").c_str(),
                    sender.empty() ? "<>" : sender.c_str());
      out_ << line;
      std::string last_error = Str(m, "last_error");
      std::string next = Str(m, "next_attempt");
      out_ << std::string(18, ' ') << "attempts: " << Int(m, "attempts")
           << (next.empty() ? "" : ", next attempt: " + next) << (Bool(m, "held") ? ", held" : "")
           << "\n";
      if (!last_error.empty()) out_ << std::string(18, ' ') << "(" << last_error << ")\n";
      if (auto* rs = m.if_contains("recipients"); rs && rs->is_array()) {
        for (const auto& rv : rs->get_array()) {
          if (!rv.is_object()) continue;
          const auto& r = rv.as_object();
          std::string state = Str(r, "state");
          out_ << std::string(49, ' ') << Str(r, "address");
          if (state != "pending") out_ << " (" << state << ": " << Str(r, "last_reply") << ")";
          out_ << "\n";
        }
      }
      out_ << "\n";
    }
    out_ << "-- " << (bytes + 1023) / 1024 << " Kbytes in " << messages.size()
         << (messages.size() == 1 ? " Request.\n" : " Requests.\n");
    return kOk;
  }

  int Show(const Options& o) {
    json::value doc;
    std::string raw;
    if (!Call("GET", "/api/v1/queue/" + UrlEncode(o.ids[0]), &doc, &raw)) return kFailed;
    if (o.json) {
      out_ << raw;
      return kOk;
    }
    const auto& root = doc.as_object();
    auto* mv = root.if_contains("message");
    if (!mv || !mv->is_object()) {
      err_ << "spamweeder queue: bad response from daemon\n";
      return kFailed;
    }
    const auto& m = mv->as_object();
    auto row = [&](const char* k, const std::string& v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%-14s", k);
      out_ << buf << v << "\n";
    };
    std::string sender = Str(m, "sender");
    row("Queue ID:", Str(m, "id"));
    row("Arrival:", Str(m, "arrival"));
    row("Size:", std::to_string(Int(m, "size")));
    row("Sender:", sender.empty() ? "<>" : sender);
    row("Client:", Str(m, "helo") + " [" + Str(m, "client_ip") + "]");
    row("Attempts:", std::to_string(Int(m, "attempts")));
    row("Next attempt:", Str(m, "next_attempt").empty() ? "-" : Str(m, "next_attempt"));
    row("Last error:", Str(m, "last_error").empty() ? "-" : Str(m, "last_error"));
    row("Held:", Bool(m, "held") ? "yes" : "no");
    out_ << "Recipients:\n";
    if (auto* rs = m.if_contains("recipients"); rs && rs->is_array()) {
      for (const auto& rv : rs->get_array()) {
        if (!rv.is_object()) continue;
        const auto& r = rv.as_object();
        std::string reply = Str(r, "last_reply");
        out_ << "  " << Str(r, "address") << "  " << Str(r, "state")
             << (reply.empty() ? "" : "  " + reply) << "\n";
      }
    }
    out_ << "Headers:\n";
    if (auto* hs = root.if_contains("headers"); hs && hs->is_array()) {
      for (const auto& hv : hs->get_array()) {
        if (!hv.is_array() || hv.get_array().size() != 2) continue;
        const auto& h = hv.get_array();
        out_ << "  " << (h[0].is_string() ? std::string(h[0].get_string()) : "") << ": "
             << (h[1].is_string() ? std::string(h[1].get_string()) : "") << "\n";
      }
    }
    if (std::string e = Str(root, "headers_error"); !e.empty())
      out_ << "  (headers unavailable: " << e << ")\n";
    return kOk;
  }

  int Summary(const Options& o) {
    json::value doc;
    std::string raw;
    if (!Call("GET", "/api/v1/queue/summary", &doc, &raw)) return kFailed;
    if (o.json) {
      out_ << raw;
      return kOk;
    }
    char line[512];
    std::snprintf(line, sizeof line, "%-30s %-5s %8s %12s %6s  %-20s %6s %6s %6s %6s %6s %6s\n",
                  "Domain", "State", "Messages", "Bytes", "Held", "Oldest", "<5m", "<1h", "<4h",
                  "<1d", "<7d", "older");
    out_ << line;
    const auto& root = doc.as_object();
    if (auto* ds = root.if_contains("domains"); ds && ds->is_array()) {
      for (const auto& dv : ds->get_array()) {
        if (!dv.is_object()) continue;
        const auto& d = dv.as_object();
        int64_t b[6] = {0, 0, 0, 0, 0, 0};
        if (auto* ab = d.if_contains("age_buckets"); ab && ab->is_object()) {
          const char* names[6] = {"5m", "1h", "4h", "1d", "7d", "older"};
          for (int i = 0; i < 6; ++i) b[i] = Int(ab->as_object(), names[i]);
        }
        std::string oldest = Str(d, "oldest");
        std::snprintf(line, sizeof line,
                      "%-30s %-5s %8lld %12lld %6lld  %-20s %6lld %6lld %6lld %6lld %6lld %6lld\n",
                      Str(d, "domain").c_str(), Bool(d, "up") ? "up" : "down",
                      static_cast<long long>(Int(d, "messages")),
                      static_cast<long long>(Int(d, "bytes")),
                      static_cast<long long>(Int(d, "held")), oldest.empty() ? "-" : oldest.c_str(),
                      static_cast<long long>(b[0]), static_cast<long long>(b[1]),
                      static_cast<long long>(b[2]), static_cast<long long>(b[3]),
                      static_cast<long long>(b[4]), static_cast<long long>(b[5]));
        out_ << line;
      }
    }
    if (auto* t = root.if_contains("total"); t && t->is_object())
      out_ << "Total: " << Int(t->as_object(), "messages") << " messages\n";
    return kOk;
  }

  // One range action of the daemon on a domain's queue (POST /api/v1/domains/D/ACTION).
  bool ActOnDomain(const std::string& domain, const std::string& action) {
    json::value doc;
    if (!Call("POST", "/api/v1/domains/" + UrlEncode(domain) + "/" + action, &doc)) {
      err_ << domain << ": " << action << ": " << last_error_ << "\n";
      return false;
    }
    out_ << domain << ": " << action << ": " << Int(doc.as_object(), "messages") << " messages\n";
    return true;
  }

  int Act(const Options& o) {
    const std::string& action = o.command;
    if (o.has_domain) return ActOnDomain(o.domain, action) ? kOk : kFailed;
    if (o.all) {  // every domain with queued mail, each one range action
      json::value doc;
      if (!Call("GET", "/api/v1/queue/summary", &doc)) return kFailed;
      int failed = 0, domains = 0;
      if (auto* ds = doc.as_object().if_contains("domains"); ds && ds->is_array())
        for (const auto& d : ds->as_array())
          if (d.is_object() && Int(d.as_object(), "messages") > 0) {
            ++domains;
            if (!ActOnDomain(Str(d.as_object(), "domain"), action)) ++failed;
          }
      if (domains == 0) out_ << "no queued messages\n";
      return failed ? kFailed : kOk;
    }
    std::vector<std::string> ids = o.ids;
    int failed = 0;
    for (const auto& id : ids) {
      bool ok = action == "delete"
                    ? Call("DELETE", "/api/v1/queue/" + UrlEncode(id), nullptr, nullptr, true)
                    : Call("POST", "/api/v1/queue/" + UrlEncode(id) + "/" + action, nullptr,
                           nullptr, true);
      if (ok) {
        out_ << id << ": " << action << ": ok\n";
      } else {
        ++failed;
        err_ << id << ": " << action << ": " << last_error_ << "\n";
      }
    }
    return failed ? kFailed : kOk;
  }

 private:
  HttpClient& http_;
  std::ostream& out_;
  std::ostream& err_;
  std::string last_error_;
};

}  // namespace

int QueueCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (std::string problem = ParseArgs(args, &o); !problem.empty()) {
    err << "spamweeder queue: " << problem << "\n" << kUsageText;
    return kUsage;
  }
  config::Config cfg;
  try {
    cfg = config::LoadConfig(o.config_path);
  } catch (const config::ConfigError& e) {
    for (const auto& p : e.problems()) err << p << "\n";
    return kUsage;
  }
  config::ListenAddress addr = cfg.admin.listen;
  if (!o.admin.empty()) {
    auto parsed = config::ParseListenAddress(o.admin);
    if (!parsed) {
      err << "spamweeder queue: --admin: bad address " << o.admin << "\n";
      return kUsage;
    }
    addr = *parsed;
  }
  if (addr.port == 0) {
    err << "spamweeder queue: admin.listen has port 0; give the daemon's port with --admin\n";
    return kUsage;
  }
  // A wildcard listener is reached over loopback.
  std::string host = addr.host;
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  HttpClient http(host, addr.port, cfg.admin.token);
  Cli cli(http, out, err);
  if (o.command == "list") return cli.List(o);
  if (o.command == "show") return cli.Show(o);
  if (o.command == "summary") return cli.Summary(o);
  return cli.Act(o);
}

}  // namespace sw::admin
