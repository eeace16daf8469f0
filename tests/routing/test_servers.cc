// Owns the routing tests' loopback peers: a managed smtp-sink process and a scripted SMTP server.
// Fails loudly: setup problems are gtest failures; every process and thread is stopped on
// destruction.
#include "tests/routing/test_servers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sw::routing::testing {
namespace fs = std::filesystem;

namespace {

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

std::string Upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

}  // namespace

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = Loopback(0);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool WaitForListener(uint16_t port, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(port);
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::close(fd);
    if (rc == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// ---- smtp-sink ------------------------------------------------------------------------------

SmtpSink::SmtpSink(uint16_t port, std::string dump_dir, std::vector<std::string> extra_args)
    : port_(port) {
  const passwd* pw = ::getpwuid(::geteuid());
  std::vector<std::string> args = {"/usr/sbin/smtp-sink", "-u", pw ? pw->pw_name : "root"};
  if (!dump_dir.empty()) {
    args.push_back("-d");
    args.push_back(dump_dir + "/msg.");
  }
  for (auto& a : extra_args) args.push_back(a);
  args.push_back("127.0.0.1:" + std::to_string(port));
  args.push_back("64");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (pid <= 0) {
    ADD_FAILURE() << "fork failed";
    return;
  }
  pid_ = pid;
  EXPECT_TRUE(WaitForListener(port)) << "smtp-sink did not start on port " << port;
}

void SmtpSink::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

SmtpSink::~SmtpSink() { Stop(); }

std::vector<std::string> ReadDumps(const std::string& dir, size_t count, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::vector<std::string> out;
  for (;;) {
    out.clear();
    bool complete = true;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      std::string s = ss.str();
      if (s.size() < 2 || s.compare(s.size() - 2, 2, "\n\n") != 0) complete = false;
      out.push_back(std::move(s));
    }
    if ((out.size() >= count && complete) || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "sw-routing-XXXXXX").string();
  char* p = ::mkdtemp(tmpl.data());
  EXPECT_NE(p, nullptr);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

// ---- TLS ------------------------------------------------------------------------------------

std::shared_ptr<SSL_CTX> MakeSelfSignedServerContext() {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_sign(x, pkey, EVP_sha256());
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(ctx, x);
  SSL_CTX_use_PrivateKey(ctx, pkey);
  X509_free(x);
  EVP_PKEY_free(pkey);
  return std::shared_ptr<SSL_CTX>(ctx, SSL_CTX_free);
}

// ---- scripted server ------------------------------------------------------------------------

struct ScriptedServer::Peer {
  int fd = -1;
  SSL* ssl = nullptr;
  std::string in;

  ~Peer() {
    if (ssl) SSL_free(ssl);
  }
  bool Fill() {
    char buf[65536];
    long n = ssl ? SSL_read(ssl, buf, sizeof buf) : ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    in.append(buf, static_cast<size_t>(n));
    return true;
  }
  bool ReadLine(std::string* line) {
    for (;;) {
      size_t p = in.find("\r\n");
      if (p != std::string::npos) {
        *line = in.substr(0, p);
        in.erase(0, p + 2);
        return true;
      }
      if (!Fill()) return false;
    }
  }
  bool Send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      long n = ssl ? SSL_write(ssl, s.data() + off, static_cast<int>(s.size() - off))
                   : ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
};

ScriptedServer::ScriptedServer(Script script) : script_(std::move(script)) {
  ::signal(SIGPIPE, SIG_IGN);  // OpenSSL's socket BIO writes with write(2)
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = Loopback(0);
  EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::listen(listen_fd_, 64), 0);
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

ScriptedServer::~ScriptedServer() {
  stop_ = true;
  acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) t.join();
  ::close(listen_fd_);
}

void ScriptedServer::AcceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void ScriptedServer::Serve(int fd) {
  ++connections_;
  int now = ++active_;
  int prev = max_concurrent_.load();
  while (now > prev && !max_concurrent_.compare_exchange_weak(prev, now)) {
  }
  Peer peer;
  peer.fd = fd;
  auto record = [this](const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    commands_.push_back(line);
  };
  if (script_.silent) {
    while (!stop_ && peer.Fill()) {
    }
  } else if (peer.Send(script_.greeting) && script_.greeting[0] == '2') {
    std::string line;
    bool open = true;
    int accepted = 0;  // recipients accepted in the current transaction
    while (open && !stop_ && peer.ReadLine(&line)) {
      record(line);
      std::string verb = Upper(line.substr(0, line.find(' ')));
      if (verb.rfind("MAIL", 0) == 0) verb = "MAIL";
      if (verb.rfind("RCPT", 0) == 0) verb = "RCPT";
      if (verb == "EHLO") {
        if (script_.reject_ehlo) {
          open = peer.Send("502 5.5.2 EHLO not implemented\r\n");
          continue;
        }
        std::vector<std::string> ext = script_.extensions;
        if (script_.tls && !peer.ssl) ext.push_back("STARTTLS");
        std::string reply = "250";
        reply.append(ext.empty() ? " " : "-").append("scripted\r\n");
        for (size_t i = 0; i < ext.size(); ++i)
          reply.append(i + 1 == ext.size() ? "250 " : "250-").append(ext[i]).append("\r\n");
        open = peer.Send(reply);
      } else if (verb == "HELO") {
        open = peer.Send("250 scripted\r\n");
      } else if (verb == "STARTTLS" && script_.tls && !peer.ssl) {
        peer.Send("220 2.0.0 Ready to start TLS\r\n");
        peer.in.clear();
        peer.ssl = SSL_new(script_.tls.get());
        SSL_set_fd(peer.ssl, fd);
        open = SSL_accept(peer.ssl) == 1;
      } else if (verb == "MAIL") {
        {
          std::lock_guard<std::mutex> lock(mu_);
          mail_pipelined_.push_back(peer.in.find("DATA\r\n") != std::string::npos);
        }
        accepted = 0;
        open = peer.Send(script_.mail_reply);
      } else if (verb == "RCPT") {
        std::string addr = line.substr(line.find('<') + 1);
        addr = addr.substr(0, addr.find('>'));
        std::string reply = script_.rcpt_reply ? script_.rcpt_reply(addr) : "250 2.1.5 Ok\r\n";
        if (reply[0] == '2') ++accepted;
        open = peer.Send(reply);
      } else if (verb == "DATA") {
        if (accepted == 0) {
          open = peer.Send("554 5.5.1 Error: no valid recipients\r\n");
          continue;
        }
        accepted = 0;
        open = peer.Send(script_.data_reply);
        if (!open || script_.data_reply[0] != '3') continue;
        // Raw wire bytes up to and including the terminating ".\r\n".
        size_t end = std::string::npos;
        size_t scanned = 0;
        for (;;) {
          if (peer.in.compare(0, 3, ".\r\n") == 0) {
            end = 3;
          } else {
            size_t p = peer.in.find("\r\n.\r\n", scanned);
            if (p != std::string::npos) end = p + 5;
          }
          if (end != std::string::npos) break;
          scanned = peer.in.size() > 4 ? peer.in.size() - 4 : 0;
          if (script_.drop_during_data && !peer.in.empty()) break;
          if (!peer.Fill()) break;
        }
        if (end == std::string::npos) {  // dropped (scripted) or lost
          open = false;
          break;
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          messages_.push_back(peer.in.substr(0, end));
        }
        peer.in.erase(0, end);
        if (script_.end_delay_ms > 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(script_.end_delay_ms));
        }
        open = peer.Send(script_.end_reply);
        if (script_.close_after_message) open = false;
      } else if (verb == "RSET") {
        accepted = 0;
        open = peer.Send("250 2.0.0 Ok\r\n");
      } else if (verb == "NOOP") {
        open = peer.Send("250 2.0.0 Ok\r\n");
      } else if (verb == "QUIT") {
        peer.Send("221 2.0.0 Bye\r\n");
        open = false;
      } else {
        open = peer.Send("502 5.5.2 Error: command not recognized\r\n");
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }
  --active_;
}

std::vector<std::string> ScriptedServer::commands() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commands_;
}

std::vector<std::string> ScriptedServer::messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

std::vector<bool> ScriptedServer::mail_pipelined() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mail_pipelined_;
}

int ScriptedServer::CountCommand(const std::string& verb) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  const std::string want = Upper(verb);
  for (const auto& c : commands_)
    if (Upper(c).rfind(want, 0) == 0) ++n;
  return n;
}

}  // namespace sw::routing::testing
