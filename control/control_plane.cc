// Owns the control plane's live state: resellers, customers, tokens and provisioned domains
// in memory (loaded from a ControlStore), who sees what, atomic audited writes, and the
// effective domain table published to the SMTP path. Fails by Status; never throws.
#include "control/control_plane.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>
#include <vector>

#include "common/log.h"
#include "control/domain_json.h"
#include "control/tenant_json.h"

namespace sw::control {

namespace json = boost::json;

namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

// The account a token acts for, as a principal; nullopt when the account is gone.
std::optional<Principal> PrincipalFor(const Token& t, const std::map<std::string, Reseller>& rs,
                                      const std::map<std::string, Customer>& cs) {
  Principal p;
  p.token_id = t.id;
  p.account = t.account;
  p.role = t.role;
  if (t.account == kOperator) return p;
  if (t.account.rfind("r_", 0) == 0) {
    if (!rs.count(t.account)) return std::nullopt;
    p.reseller = t.account;
    return p;
  }
  auto c = cs.find(t.account);
  if (c == cs.end()) return std::nullopt;
  p.customer = c->second.id;
  p.reseller = c->second.reseller;
  return p;
}

}  // namespace

ControlPlane::ControlPlane(boost::asio::io_context& io, ControlStore& store,
                           std::shared_ptr<const config::Config> file_config, PublishFn publish)
    : io_(io),
      store_(store),
      file_config_(std::move(file_config)),
      publish_(std::move(publish)),
      publish_timer_(io) {
  effective_ = Build();
}

int64_t ControlPlane::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ControlPlane::NewId(const char* prefix) {
  unsigned char b[8];
  RAND_bytes(b, sizeof b);
  return prefix + Hex(b, sizeof b);
}

std::string ControlPlane::RandomUrlSafe(size_t bytes) {
  static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::vector<unsigned char> b(bytes);
  RAND_bytes(b.data(), static_cast<int>(b.size()));
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : b) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kB64[(acc << (6 - bits)) & 63]);
  return out;
}

std::string ControlPlane::NewTokenText() { return "sw_" + RandomUrlSafe(32); }  // 3 + 43

std::string ControlPlane::HashToken(std::string_view token) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(token.data(), token.size(), md, &n, EVP_sha256(), nullptr);
  return Hex(md, n);
}

Principal ControlPlane::OperatorPrincipal() {
  Principal p;
  p.token_id = kOperator;
  p.account = kOperator;
  p.role = Role::kAdmin;
  return p;
}

Status ControlPlane::ReadRecords(ControlStore& store, Records* out) {
  auto load = [out](const std::string& key, const std::string& text) {
    bool ok = false;
    if (key.rfind("r/", 0) == 0) {
      Reseller r;
      if ((ok = LoadReseller(text, &r))) out->resellers[r.id] = std::move(r);
    } else if (key.rfind("c/", 0) == 0) {
      Customer c;
      if ((ok = LoadCustomer(text, &c))) out->customers[c.id] = std::move(c);
    } else if (key.rfind("t/", 0) == 0) {
      Token t;
      if ((ok = LoadToken(text, &t))) {
        out->token_by_hash[t.hash] = t.id;
        out->tokens[t.id] = std::move(t);
      }
    } else if (key.rfind("d/", 0) == 0) {
      DomainRecord d;
      if ((ok = LoadDomain(text, &d))) out->domains[d.domain.name] = std::move(d);
    }
    if (!ok) {
      ++out->unreadable;
      log::Error("control_record_unreadable").kv("key", key);
    }
    return true;
  };
  for (const char* prefix : {"r/", "c/", "t/", "d/"}) {
    Status st = store.ScanPrefix(prefix, load);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

void ControlPlane::TakeRecords(Records&& r) {
  resellers_ = std::move(r.resellers);
  customers_ = std::move(r.customers);
  tokens_ = std::move(r.tokens);
  token_by_hash_ = std::move(r.token_by_hash);
  domains_ = std::move(r.domains);
}

Status ControlPlane::Load() {
  // The version first: a change committed while the records are read is read again later.
  uint64_t version = 0;
  Status st = store_.ChangeVersion(&version);
  if (!st.ok()) return st;
  Records r;
  st = ReadRecords(store_, &r);
  if (!st.ok()) return st;
  size_t bad = r.unreadable;
  TakeRecords(std::move(r));
  applied_version_ = newest_version_ = version;
  effective_ = Build();
  RebuildTenants();
  log::Info("control_loaded")
      .kv("resellers", resellers_.size())
      .kv("customers", customers_.size())
      .kv("domains", domains_.size())
      .kv("tokens", tokens_.size())
      .kv("unreadable", bad)
      .kv("version", version);
  return Status::Ok();
}

void ControlPlane::RebuildTenants() {
  auto t = std::make_shared<TenantSnapshot>();
  t->resellers = resellers_;
  t->customers = customers_;
  tenants_ = t;
  if (tenants_listener_) tenants_listener_(tenants_);
}

void ControlPlane::SetFileConfig(std::shared_ptr<const config::Config> file_config) {
  file_config_ = std::move(file_config);
  effective_ = Build();
  publish_(effective_);
}

std::shared_ptr<const config::Config> ControlPlane::Build() const {
  auto cfg = std::make_shared<config::Config>(*file_config_);
  for (auto& [name, d] : cfg->domains) d.source = config::DomainSource::kConfig;
  for (const auto& [name, rec] : domains_) cfg->domains.emplace(name, rec.domain);  // file wins
  return cfg;
}

void ControlPlane::PublishNow() {
  publish_timer_.cancel();
  publish_pending_ = false;
  last_publish_ = std::chrono::steady_clock::now();
  effective_ = Build();
  publish_(effective_);
}

void ControlPlane::SchedulePublish() {
  // Leading edge: a lone write (a DELETE) is live at once; a burst of writes is coalesced
  // into one rebuild per kPublishDelay (the table is O(domains) to build).
  if (publish_pending_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_publish_ >= kPublishDelay) {
    last_publish_ = now;
    effective_ = Build();
    publish_(effective_);
    return;
  }
  publish_pending_ = true;
  publish_timer_.expires_at(last_publish_ + kPublishDelay);
  publish_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    publish_pending_ = false;
    last_publish_ = std::chrono::steady_clock::now();
    effective_ = Build();
    publish_(effective_);
  });
}

std::optional<Principal> ControlPlane::Authenticate(std::string_view token) {
  // The lookup is by SHA-256 of the token (its timing says nothing about the token itself);
  // the stored hash is then compared in constant time.
  const std::string hash = HashToken(token);
  auto it = token_by_hash_.find(hash);
  if (it == token_by_hash_.end()) return std::nullopt;
  auto t = tokens_.find(it->second);
  if (t == tokens_.end() || t->second.hash.size() != hash.size() ||
      CRYPTO_memcmp(t->second.hash.data(), hash.data(), hash.size()) != 0)
    return std::nullopt;
  auto p = PrincipalFor(t->second, resellers_, customers_);
  if (!p) return std::nullopt;
  int64_t now = NowMs();
  // Last use is kept to the minute, written without a sync (it is not worth an fsync), off
  // the io thread when the worker runs; a failure (store down) is not worth an error.
  if (now - t->second.last_used_ms >= 60000) {
    t->second.last_used_ms = now;
    std::vector<RecordPut> put{{"t/" + t->second.id, StoreToken(t->second)}};
    ControlStore* store = &store_;
    // Not over a token revoked meanwhile on any node (a put would bring it back).
    auto write = [store, put] { store->UpdateUnsynced(put); };
    if (!PostToWorker(write)) write();
  }
  return p;
}

std::optional<Principal> ControlPlane::PrincipalForTokenHash(const std::string& hash) const {
  auto it = token_by_hash_.find(hash);
  if (it == token_by_hash_.end()) return std::nullopt;
  auto t = tokens_.find(it->second);
  if (t == tokens_.end()) return std::nullopt;
  return PrincipalFor(t->second, resellers_, customers_);
}

bool ControlPlane::SeesReseller(const Principal& p, const std::string& id) const {
  if (!resellers_.count(id)) return false;
  return p.is_operator() || (p.is_reseller() && p.reseller == id);
}

bool ControlPlane::SeesCustomer(const Principal& p, const std::string& id) const {
  auto c = customers_.find(id);
  if (c == customers_.end()) return false;
  if (p.is_operator()) return true;
  if (p.is_customer()) return p.customer == id;
  return !c->second.reseller.empty() && c->second.reseller == p.reseller;
}

bool ControlPlane::SeesAccount(const Principal& p, const std::string& account) const {
  if (account == kOperator) return p.is_operator();
  if (account.rfind("r_", 0) == 0) return SeesReseller(p, account);
  return SeesCustomer(p, account);
}

bool ControlPlane::SeesDomain(const Principal& p, const std::string& name) const {
  auto d = FindDomain(name);
  if (!d) return false;
  if (p.is_operator()) return true;
  return !d->domain.customer.empty() && SeesCustomer(p, d->domain.customer);
}

bool ControlPlane::SeesAudit(const Principal& p, const json::object& e) const {
  if (p.is_operator()) return true;
  auto field = [&](const char* k) {
    auto* s = e.if_contains("scope");
    auto* v = s && s->is_object() ? s->as_object().if_contains(k) : nullptr;
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (p.is_customer()) return field("customer") == p.customer;
  return !p.reseller.empty() && field("reseller") == p.reseller;
}

const Reseller* ControlPlane::FindReseller(const std::string& id) const {
  auto it = resellers_.find(id);
  return it == resellers_.end() ? nullptr : &it->second;
}

const Customer* ControlPlane::FindCustomer(const std::string& id) const {
  auto it = customers_.find(id);
  return it == customers_.end() ? nullptr : &it->second;
}

const Token* ControlPlane::FindToken(const std::string& id) const {
  auto it = tokens_.find(id);
  return it == tokens_.end() ? nullptr : &it->second;
}

std::optional<DomainRecord> ControlPlane::FindDomain(const std::string& name) const {
  if (auto f = file_config_->domains.find(name); f != file_config_->domains.end()) {
    DomainRecord r;
    r.domain = f->second;
    r.domain.source = config::DomainSource::kConfig;
    return r;
  }
  auto it = domains_.find(name);
  if (it == domains_.end() || it->second.domain.state == config::DomainState::kDeleted)
    return std::nullopt;
  return it->second;
}

std::vector<DomainRecord> ControlPlane::ListDomains(
    const std::string& after, size_t limit,
    const std::function<bool(const DomainRecord&)>& keep) const {
  std::vector<DomainRecord> out;
  auto& files = file_config_->domains;
  auto f = files.upper_bound(after);
  auto a = domains_.upper_bound(after);
  while (out.size() < limit && (f != files.end() || a != domains_.end())) {
    bool take_file = a == domains_.end() || (f != files.end() && f->first <= a->first);
    DomainRecord r;
    if (take_file) {
      if (a != domains_.end() && a->first == f->first) ++a;  // the file's record wins
      r.domain = f->second;
      r.domain.source = config::DomainSource::kConfig;
      ++f;
    } else {
      if (a->second.domain.state == config::DomainState::kDeleted) {
        ++a;
        continue;
      }
      r = a->second;
      ++a;
    }
    if (keep(r)) out.push_back(std::move(r));
  }
  return out;
}

std::string ControlPlane::ResellerOf(const config::DomainConfig& d) const {
  auto c = customers_.find(d.customer);
  return c == customers_.end() ? "" : c->second.reseller;
}

uint64_t ControlPlane::DomainsOf(const std::string& reseller) const {
  uint64_t n = 0;
  for (const auto& [name, d] : domains_)
    if (d.domain.state != config::DomainState::kDeleted && ResellerOf(d.domain) == reseller) ++n;
  return n;
}

bool ControlPlane::HasChildren(const std::string& account) const {
  for (const auto& [id, c] : customers_)
    if (c.reseller == account) return true;
  for (const auto& [name, d] : domains_)
    if (d.domain.state != config::DomainState::kDeleted && d.domain.customer == account)
      return true;
  return false;
}

Status ControlPlane::Apply(const Principal& actor, const std::string& client_ip, Mutation m) {
  ChangeSet cs;
  for (const auto& r : m.resellers) cs.puts.push_back({"r/" + r.id, StoreReseller(r)});
  for (const auto& c : m.customers) cs.puts.push_back({"c/" + c.id, StoreCustomer(c)});
  for (const auto& d : m.domains) cs.puts.push_back({"d/" + d.domain.name, StoreDomain(d)});
  for (const auto& t : m.tokens) cs.puts.push_back({"t/" + t.id, StoreToken(t)});
  for (const auto& id : m.delete_resellers) cs.deletes.push_back("r/" + id);
  for (const auto& id : m.delete_customers) cs.deletes.push_back("c/" + id);
  for (const auto& id : m.delete_tokens) cs.deletes.push_back("t/" + id);
  int64_t now = NowMs();
  const config::Config& fc = *file_config_;
  const std::string& node = fc.cluster.node.empty() ? fc.server.hostname : fc.cluster.node;
  uint64_t seq = 0;  // seqs from the store: unique across the nodes of a cluster
  if (!m.audit.empty()) {
    Status reserved = store_.ReserveAuditSeqs(m.audit.size(), &seq);
    if (!reserved.ok()) {
      log::Error("control_write_failed").kv("detail", reserved.message());
      return reserved;
    }
    --seq;
  }
  for (auto& a : m.audit) {
    json::object e{{"seq", ++seq},
                   {"node", node},
                   {"at", IsoTime(now)},
                   {"actor", {{"token", actor.token_id}, {"account", actor.account}}},
                   {"client_ip", client_ip},
                   {"action", a.action},
                   {"object", a.object},
                   {"changes", std::move(a.changes)},
                   {"scope", {{"reseller", a.reseller}, {"customer", a.customer}}}};
    cs.audit.push_back({seq, json::serialize(e)});
  }
  uint64_t version = 0;
  Status st = store_.CommitVersioned(cs, &version);
  if (!st.ok()) {
    log::Error("control_write_failed").kv("detail", st.message());
    return st;
  }
  bool domains_changed = !m.domains.empty();
  bool removes = false;  // a delete must refuse mail at once: no coalescing delay
  for (const auto& d : m.domains) removes |= d.domain.state == config::DomainState::kDeleted;
  for (auto& r : m.resellers) resellers_[r.id] = std::move(r);
  for (auto& c : m.customers) customers_[c.id] = std::move(c);
  for (auto& d : m.domains) domains_[d.domain.name] = std::move(d);
  for (auto& t : m.tokens) {
    token_by_hash_[t.hash] = t.id;
    tokens_[t.id] = std::move(t);
  }
  for (const auto& id : m.delete_resellers) resellers_.erase(id);
  for (const auto& id : m.delete_customers) customers_.erase(id);
  for (const auto& id : m.delete_tokens) {
    if (auto t = tokens_.find(id); t != tokens_.end()) {
      token_by_hash_.erase(t->second.hash);
      tokens_.erase(t);
    }
  }
  if (!m.resellers.empty() || !m.customers.empty() || !m.delete_resellers.empty() ||
      !m.delete_customers.empty())
    RebuildTenants();
  for (const auto& a : cs.audit)
    log::Info("audit").kv("seq", a.seq).kv("actor", actor.token_id).kv("client", client_ip);
  // Customer moves change who sees which domain, not the SMTP table; domains republish.
  if (removes) {
    PublishNow();
  } else if (domains_changed) {
    SchedulePublish();
  }
  NoteOwnVersion(version);  // other nodes' changes in between: read back
  return Status::Ok();
}

Status ControlPlane::ReadAudit(const Principal& p, AuditCursor from, size_t limit,
                               std::vector<json::object>* out) {
  std::vector<AuditRow> rows;
  Status st = store_.ReadAudit(
      from, limit,
      [&](const std::string& text) {
        boost::system::error_code ec;
        json::value v = json::parse(text, ec);
        return !ec && v.is_object() && SeesAudit(p, v.as_object());
      },
      &rows);
  for (const auto& r : rows) {
    json::object e = json::parse(r.json).as_object();
    e.erase("scope");
    out->push_back(std::move(e));
  }
  return st;
}

}  // namespace sw::control
