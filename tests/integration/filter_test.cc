// SpamWeeder Premium end to end: the real gateway with a real rspamd and a real libclamav
// database (SPEC section 6). Fails with the gateway's and rspamd's logs.
#include <signal.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness/gateway_process.h"
#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/mime_mail.h"
#include "tests/integration/harness/scanners.h"
#include "tests/integration/harness/smtp_client.h"

namespace sw::it {
namespace {

ScannerEnvironment* const g_scanners =
    static_cast<ScannerEnvironment*>(::testing::AddGlobalTestEnvironment(new ScannerEnvironment));

// The first value of header field `name` (continuation lines joined), or nullopt.
std::optional<std::string> Header(const std::string& data, const std::string& name) {
  size_t pos = 0;
  while (pos < data.size()) {
    size_t eol = data.find("\r\n", pos);
    if (eol == std::string::npos || eol == pos) break;
    if (eol - pos > name.size() && data[pos + name.size()] == ':' &&
        strncasecmp(data.data() + pos, name.data(), name.size()) == 0) {
      std::string value = data.substr(pos + name.size() + 1, eol - pos - name.size() - 1);
      size_t next = eol + 2;
      while (next < data.size() && (data[next] == ' ' || data[next] == '\t')) {
        size_t e = data.find("\r\n", next);
        if (e == std::string::npos) e = data.size();
        value += " " + data.substr(next + 1, e - next - 1);
        next = e + 2;
      }
      size_t first = value.find_first_not_of(" \t");
      return first == std::string::npos ? "" : value.substr(first);
    }
    pos = eol + 2;
  }
  return std::nullopt;
}

// Names of the header fields in order (continuation lines skipped).
std::vector<std::string> HeaderNames(const std::string& data) {
  std::vector<std::string> names;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t eol = data.find("\r\n", pos);
    if (eol == std::string::npos || eol == pos) break;
    if (data[pos] != ' ' && data[pos] != '\t') {
      size_t colon = data.find(':', pos);
      if (colon != std::string::npos && colon < eol) names.push_back(data.substr(pos, colon - pos));
    }
    pos = eol + 2;
  }
  return names;
}

struct FilterSetup {
  std::string rspamd_url;  // empty: the shared rspamd
  std::string rspamd_timeout = "10s";
  std::string rspamd_on_failure = "tempfail";
  std::string clamav_on_failure = "tempfail";
  std::string database;  // empty: the shared test database
  std::string reload_interval = "1s";
};

class FilterTest : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    ASSERT_TRUE(g_scanners->ready()) << "scanners did not start";
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << g_scanners->rspamd().Logs() << "\n";
    GatewayTest::TearDown();
  }

  // example.com: filtering with the SPEC defaults (tag 6, reject 15) and a subject tag;
  // tagged.test: filtering with tag_score 5; plain.test: no filtering.
  GatewayOptions FilterOptions(const FilterSetup& f) {
    GatewayOptions o;
    std::string dest = "[127.0.0.1]:" + std::to_string(sink_.port());
    DomainSpec example{
        "example.com",   {dest}, {},
        "opportunistic", true,   "{tag_score: 6, reject_score: 15, subject_tag: \"[SPAM]\"}"};
    DomainSpec tagged{
        "tagged.test",   {dest}, {},
        "opportunistic", true,   "{tag_score: 5, reject_score: 15, subject_tag: \"[SPAM]\"}"};
    DomainSpec plain{"plain.test", {dest}, {}, "opportunistic", false, ""};
    o.domains = {example, tagged, plain};
    std::string url = f.rspamd_url.empty() ? g_scanners->rspamd().url() : f.rspamd_url;
    std::string db = f.database.empty() ? g_scanners->db() : f.database;
    o.filters_yaml =
        "filters:\n"
        "  rspamd: {url: \"" +
        url + "\", timeout: " + f.rspamd_timeout + ", on_failure: " + f.rspamd_on_failure +
        "}\n"
        "  clamav: {database: \"" +
        db + "\", on_failure: " + f.clamav_on_failure + ", temp_dir: \"" + dir_.path() +
        "\", reload_interval: " + f.reload_interval + ", threads: 2}\n";
    return o;
  }

  ::testing::AssertionResult StartFiltering(const FilterSetup& f = {}) {
    return StartGateway(FilterOptions(f));
  }

  SendResult Send(const std::string& to, const std::string& data) {
    return SendMessage(port(), {"sender@client.test", {to}, ""}, data);
  }

  // The reply to the end of DATA (the last reply read).
  static std::optional<Reply> FinalReply(const SendResult& r) {
    if (r.replies.empty()) return std::nullopt;
    return r.replies.back();
  }

  void ExpectScannedLog(const std::string& id, const std::string& verdict) {
    auto line = gw_->log().WaitFor("event=scanned\\b.*\\bid=" + id + "\\b", 5s);
    ASSERT_TRUE(line) << "no scanned line for " << id;
    EXPECT_NE(line->line.find("verdict=" + verdict), std::string::npos) << line->line;
    EXPECT_NE(line->line.find("ms_rspamd="), std::string::npos) << line->line;
    EXPECT_NE(line->line.find("ms_clamav="), std::string::npos) << line->line;
  }

  // Sends `data` and expects `want` (e.g. "554 5.7.1") at the end of DATA, nothing delivered.
  void ExpectRefused(const std::string& to, const std::string& data, const std::string& want) {
    SendResult r = Send(to, data);
    EXPECT_FALSE(r.accepted) << "accepted as " << r.queue_id;
    EXPECT_TRUE(ReplyIs(FinalReply(r), want));
  }
};

TEST_F(FilterTest, GtubeGets550) {
  ASSERT_TRUE(StartFiltering());
  ExpectRefused("user@example.com", SimpleMessage("gtube-1", GtubeLine() + "\r\n"), "550 5.7.1");
  auto line = gw_->log().WaitFor("event=scanned\\b.*\\bverdict=reject\\b", 5s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->line.find("action=reject"), std::string::npos) << line->line;
  EXPECT_NE(line->line.find("score=15.00"), std::string::npos) << line->line;
  EXPECT_TRUE(gw_->log().Find("event=reject\\b.*\\bcode=550\\b.*\\breason=spam\\b"));
  EXPECT_EQ(sink_.count(), 0u);
}

// rspamd's normal worker bound to a unix socket (filters.rspamd.url: unix:/PATH): no TCP
// address is configured, so the scan can only have gone through the socket.
TEST_F(FilterTest, RspamdOverUnixSocketScans) {
  FilterSetup f;
  f.rspamd_url = g_scanners->rspamd().unix_url();
  ASSERT_TRUE(StartFiltering(f));
  ExpectRefused("user@example.com", SimpleMessage("gtube-unix", GtubeLine() + "\r\n"), "550 5.7.1");
  auto line = gw_->log().WaitFor("event=scanned\\b.*\\bverdict=reject\\b", 5s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->line.find("action=reject"), std::string::npos) << line->line;
  std::string ham = ToCrlf(WithCurrentDate(ReadFixture("corpus/easy-ham-00001.eml")));
  SendResult r = Send("user@example.com", ham);
  ASSERT_TRUE(r.accepted) << r.error;
  ExpectScannedLog(r.queue_id, "accept");
  auto m = AwaitDelivery("9627.1029933001@munnari.OZ.AU");
  ASSERT_TRUE(m);
  EXPECT_TRUE(Header(m->data, "X-Spam-Score"));
  EXPECT_TRUE(Header(m->data, "X-Spamd-Bar")) << m->data.substr(0, 800);
  EXPECT_FALSE(Header(m->data, "X-SpamWeeder-Unscanned"));
}

// A unix socket nobody listens on is a failed scan like a closed port: on_failure applies.
TEST_F(FilterTest, RspamdUnixSocketMissingTempfails) {
  FilterSetup f;
  f.rspamd_url = "unix:" + dir_.File("no-rspamd.sock");
  ASSERT_TRUE(StartFiltering(f));
  ExpectRefused("user@example.com", SimpleMessage("unix-down-1"), "451 4.7.1");
  auto line = gw_->log().WaitFor("event=scanned\\b.*\\bverdict=tempfail\\b", 5s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->line.find("failed="), std::string::npos) << line->line;
  EXPECT_EQ(sink_.count(), 0u);
}

TEST_F(FilterTest, EicarBase64AttachmentGets554) {
  ASSERT_TRUE(StartFiltering());
  ExpectRefused(
      "user@example.com",
      MailWithAttachment("eicar-b64", "eicar.com", "application/octet-stream", EicarBytes()),
      "554 5.7.1");
  auto line = gw_->log().WaitFor("event=scanned\\b.*\\bverdict=reject\\b", 5s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->line.find("virus=Eicar-Test-Signature"), std::string::npos) << line->line;
}

TEST_F(FilterTest, EicarInsideZipGets554) {
  ASSERT_TRUE(StartFiltering());
  std::string zip = StoredZip("eicar.com", EicarBytes());
  ExpectRefused("user@example.com",
                MailWithAttachment("eicar-zip", "eicar.zip", "application/zip", zip), "554 5.7.1");
  EXPECT_TRUE(gw_->log().WaitFor("event=scanned\\b.*\\bvirus=Eicar", 5s));
}

TEST_F(FilterTest, ClamExeFromClamavTestfilesIsCaught) {
  ASSERT_TRUE(StartFiltering());
  std::string exe = ReadFile("/usr/share/clamav-testfiles/clam.exe");
  ASSERT_FALSE(exe.empty()) << "clamav-testfiles not installed";
  ExpectRefused("user@example.com",
                MailWithAttachment("clam-exe", "clam.exe", "application/octet-stream", exe),
                "554 5.7.1");
  EXPECT_TRUE(gw_->log().WaitFor("event=scanned\\b.*\\bvirus=ClamAV-Test-File", 5s));
}

TEST_F(FilterTest, CorpusHamIsDeliveredWithScoreAndStatusHeaders) {
  ASSERT_TRUE(StartFiltering());
  std::string ham = ToCrlf(WithCurrentDate(ReadFixture("corpus/easy-ham-00001.eml")));
  ASSERT_FALSE(ham.empty());
  SendResult r = Send("user@example.com", ham);
  ASSERT_TRUE(r.accepted) << r.error;
  ExpectScannedLog(r.queue_id, "accept");
  auto m = AwaitDelivery("9627.1029933001@munnari.OZ.AU");
  ASSERT_TRUE(m);
  auto names = HeaderNames(m->data);
  ASSERT_GE(names.size(), 3u);
  // Our Received first, then the scan headers, then the client's own header section.
  EXPECT_EQ(names[0], "Received");
  EXPECT_NE(m->data.find("id " + r.queue_id), std::string::npos);
  EXPECT_EQ(names[1], "X-Spam-Score");
  EXPECT_EQ(names[2], "X-Spam-Status");
  auto score = Header(m->data, "X-Spam-Score");
  ASSERT_TRUE(score);
  EXPECT_LT(std::stod(*score), 6.0);
  auto status = Header(m->data, "X-Spam-Status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->rfind("No, score=" + *score + " required=6.00", 0), 0u) << *status;
  EXPECT_FALSE(Header(m->data, "X-Spam-Flag"));
  // rspamd's own milter header changes (fixture milter_headers.conf: x-spamd-bar, ...).
  EXPECT_TRUE(Header(m->data, "X-Spamd-Bar")) << m->data.substr(0, 800);
  EXPECT_EQ(CountHeaderFields(m->data, "X-Spam-Score"), 1u);
  EXPECT_FALSE(Header(m->data, "X-SpamWeeder-Unscanned"));
}

TEST_F(FilterTest, OverTagScoreGetsSpamFlagAndSubjectTag) {
  ASSERT_TRUE(StartFiltering());
  // Scores about 7.6 with the fixture config: MISSING_MID, MISSING_DATE, SUBJ_ALL_CAPS, ...
  std::string spammy = ToCrlf(WithCurrentDate(ReadFixture("checkv2/spammy.eml")));
  ASSERT_FALSE(spammy.empty());
  SendResult r = Send("user@tagged.test", spammy);
  ASSERT_TRUE(r.accepted) << r.error;
  ExpectScannedLog(r.queue_id, "tag");
  auto m = AwaitDelivery("YOU HAVE WON A FREE PRIZE");
  ASSERT_TRUE(m);
  EXPECT_EQ(Header(m->data, "X-Spam-Flag"), "YES");
  EXPECT_EQ(Header(m->data, "Subject"), "[SPAM] YOU HAVE WON A FREE PRIZE CLAIM NOW");
  EXPECT_EQ(CountHeaderFields(m->data, "Subject"), 1u);
  auto status = Header(m->data, "X-Spam-Status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->rfind("Yes, score=", 0), 0u) << *status;
  EXPECT_NE(status->find("required=5.00"), std::string::npos) << *status;
  EXPECT_NE(status->find("SUBJ_ALL_CAPS"), std::string::npos) << *status;
  EXPECT_EQ(HeaderNames(m->data)[1], "X-Spam-Flag");
}

TEST_F(FilterTest, ClientSpamHeadersAreReplaced) {
  ASSERT_TRUE(StartFiltering());
  std::string msg = "X-Spam-Flag: YES\r\nX-Spam-Score: -100\r\n" + SimpleMessage("spoofed-1");
  SendResult r = Send("user@example.com", msg);
  ASSERT_TRUE(r.accepted) << r.error;
  auto m = AwaitDelivery("spoofed-1");
  ASSERT_TRUE(m);
  EXPECT_FALSE(Header(m->data, "X-Spam-Flag"));
  EXPECT_EQ(CountHeaderFields(m->data, "X-Spam-Score"), 1u);
  EXPECT_NE(Header(m->data, "X-Spam-Score"), "-100");
}

TEST_F(FilterTest, FilteringOffMeansNoScanAndNoHeaders) {
  ASSERT_TRUE(StartFiltering());
  // Even GTUBE and EICAR pass: nothing is scanned for this domain.
  SendResult r = Send("user@plain.test", SimpleMessage("plain-1", GtubeLine() + "\r\n"));
  ASSERT_TRUE(r.accepted) << r.error;
  SendResult v =
      Send("user@plain.test",
           MailWithAttachment("plain-2", "eicar.com", "application/octet-stream", EicarBytes()));
  ASSERT_TRUE(v.accepted) << v.error;
  auto m = AwaitDelivery("plain-1");
  ASSERT_TRUE(m);
  ASSERT_TRUE(AwaitDelivery("plain-2"));
  for (const char* h :
       {"X-Spam-Score", "X-Spam-Status", "X-Spam-Flag", "X-Spamd-Bar", "X-SpamWeeder-Unscanned"})
    EXPECT_FALSE(Header(m->data, h)) << h;
  auto names = HeaderNames(m->data);
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(names[1], "From");
  EXPECT_EQ(gw_->log().Count("event=scanned\\b"), 0u);
}

TEST_F(FilterTest, OnePolicyPerTransaction) {
  ASSERT_TRUE(StartFiltering());
  SmtpClient c;
  ASSERT_TRUE(OpenSession(c, port()));
  ASSERT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250"));
  ASSERT_TRUE(ReplyIs(c.Command("RCPT TO:<a@example.com>"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<b@plain.test>"), "452 4.5.3"));   // filtering off
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<c@tagged.test>"), "452 4.5.3"));  // other thresholds
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<d@example.com>"), "250"));
  ASSERT_TRUE(ReplyIs(c.Command("DATA"), "354"));
  c.Send(SimpleMessage("policy-1") + ".\r\n");
  auto done = c.ReadReply();
  ASSERT_TRUE(ReplyIs(done, "250"));
  auto m = AwaitDelivery("policy-1");
  ASSERT_TRUE(m);
  std::vector<std::string> all;
  for (const auto& msg : sink_.MessagesContaining("policy-1"))
    all.insert(all.end(), msg.rcpt_to.begin(), msg.rcpt_to.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<std::string>{"a@example.com", "d@example.com"}));
  // A new transaction for the refused recipient works.
  ASSERT_TRUE(ReplyIs(c.Command("MAIL FROM:<sender@client.test>"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RCPT TO:<b@plain.test>"), "250"));
  EXPECT_TRUE(ReplyIs(c.Command("RSET"), "250"));
  EXPECT_TRUE(gw_->log().Find("event=reject\\b.*\\bcode=452\\b.*different filtering policy"));
}

TEST_F(FilterTest, RspamdDownTempfails) {
  FilterSetup f;
  ClosedPort closed;
  f.rspamd_url = "http://127.0.0.1:" + std::to_string(closed.port());  // nothing listens
  ASSERT_TRUE(StartFiltering(f));
  ExpectRefused("user@example.com", SimpleMessage("down-1"), "451 4.7.1");
  auto line = gw_->log().WaitFor("event=scanned\\b.*\\bverdict=tempfail\\b", 5s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->line.find("failed="), std::string::npos) << line->line;
  EXPECT_EQ(sink_.count(), 0u);
}

TEST_F(FilterTest, RspamdDownUnderAcceptDeliversWithFailOpenMark) {
  FilterSetup f;
  ClosedPort closed;
  f.rspamd_url = "http://127.0.0.1:" + std::to_string(closed.port());
  f.rspamd_on_failure = "accept";
  ASSERT_TRUE(StartFiltering(f));
  SendResult r = Send("user@example.com", SimpleMessage("down-accept-1"));
  ASSERT_TRUE(r.accepted) << r.error;
  auto m = AwaitDelivery("down-accept-1");
  ASSERT_TRUE(m);
  EXPECT_EQ(Header(m->data, "X-SpamWeeder-Unscanned"), "rspamd");
  EXPECT_FALSE(Header(m->data, "X-Spam-Score"));
  auto line = gw_->log().WaitFor("event=scanned\\b.*\\bid=" + r.queue_id + "\\b", 5s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->line.find("unscanned=rspamd"), std::string::npos) << line->line;
  // ClamAV still works: a virus is refused even with rspamd down.
  ExpectRefused(
      "user@example.com",
      MailWithAttachment("down-eicar", "eicar.com", "application/octet-stream", EicarBytes()),
      "554 5.7.1");
}

TEST_F(FilterTest, SlowRspamdTimesOutToTempfail) {
  SilentListener hung;
  ASSERT_TRUE(hung.Start());
  FilterSetup f;
  f.rspamd_url = "http://127.0.0.1:" + std::to_string(hung.port());
  f.rspamd_timeout = "1s";
  ASSERT_TRUE(StartFiltering(f));
  auto start = std::chrono::steady_clock::now();
  ExpectRefused("user@example.com", SimpleMessage("slow-1"), "451 4.7.1");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
  auto line = gw_->log().WaitFor("event=scanned\\b.*\\bverdict=tempfail\\b", 5s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->line.find("failed=\"rspamd:"), std::string::npos) << line->line;
}

TEST_F(FilterTest, SlowRspamdUnderAcceptDeliversWithFailOpenMark) {
  SilentListener hung;
  ASSERT_TRUE(hung.Start());
  FilterSetup f;
  f.rspamd_url = "http://127.0.0.1:" + std::to_string(hung.port());
  f.rspamd_timeout = "1s";
  f.rspamd_on_failure = "accept";
  ASSERT_TRUE(StartFiltering(f));
  SendResult r = Send("user@example.com", SimpleMessage("slow-accept-1"));
  ASSERT_TRUE(r.accepted) << r.error;
  auto m = AwaitDelivery("slow-accept-1");
  ASSERT_TRUE(m);
  EXPECT_EQ(Header(m->data, "X-SpamWeeder-Unscanned"), "rspamd");
}

TEST_F(FilterTest, ReplacedSignatureDatabaseIsPickedUpWithoutRestart) {
  // A private copy of the database, so the shared one stays as built.
  std::string db = dir_.File("reload-db");
  std::filesystem::create_directories(db);
  for (const char* f : {"test.hdb", "test.hsb", "test.ndb"})
    std::filesystem::copy_file(g_scanners->db() + "/" + f, db + "/" + f);
  FilterSetup setup;
  setup.database = db;
  setup.reload_interval = "1s";
  ASSERT_TRUE(StartFiltering(setup));
  const std::string marker = "SPAMWEEDER-RELOAD-TEST-SIGNATURE-7F3A9C";
  SendResult before = Send("user@example.com", SimpleMessage("reload-1", marker + "\r\n"));
  ASSERT_TRUE(before.accepted) << before.error;

  // Replace test.ndb (write + rename, as a signature updater does) with one more signature.
  std::string hex;
  for (unsigned char c : marker) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", c);
    hex += b;
  }
  std::string ndb = ReadFile(db + "/test.ndb") + "SpamWeeder-Reload-Test:0:*:" + hex + "\n";
  ASSERT_TRUE(WriteFile(db + "/.test.ndb.new", ndb));
  std::filesystem::rename(db + "/.test.ndb.new", db + "/test.ndb");
  // The supervisor loaded it (clamav_reloaded) and the gateway switched to the new generation
  // of workers (clamav_workers_reloaded): from then on every scan uses the new signatures.
  ASSERT_TRUE(gw_->log().WaitFor("event=clamav_reloaded\\b", 15s)) << gw_->log().Text();
  ASSERT_TRUE(gw_->log().WaitFor("event=clamav_workers_reloaded\\b", 15s)) << gw_->log().Text();

  ExpectRefused("user@example.com", SimpleMessage("reload-2", marker + "\r\n"), "554 5.7.1");
  EXPECT_TRUE(gw_->log().WaitFor("event=scanned\\b.*\\bvirus=SpamWeeder-Reload-Test", 5s));
  // The old signatures still work, and the daemon never restarted.
  ExpectRefused(
      "user@example.com",
      MailWithAttachment("reload-eicar", "eicar.com", "application/octet-stream", EicarBytes()),
      "554 5.7.1");
  EXPECT_TRUE(gw_->running());
  EXPECT_EQ(gw_->log().Count("event=started\\b"), 1u);
}

// Polls `ok` every 20 ms until it holds or `limit` passes.
template <typename F>
bool WaitUntil(F&& ok, Millis limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ok();
}

// Processes whose parent is `parent` (from /proc/*/stat).
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = ReadFile(e.path().string() + "/stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    int ppid = 0;
    char state = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == parent &&
        state != 'Z')
      out.push_back(std::stoi(name));
  }
  return out;
}

// Bytes waiting in the receive queues of `pid`'s unix sockets (ss -x: Recv-Q), -1 on error.
long PendingBytes(pid_t pid) {
  std::string out = ::testing::TempDir() + "/ss-" + std::to_string(getpid()) + ".txt";
  std::string cmd = "ss -x -a -p -H > " + out + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return -1;
  long total = 0;
  std::istringstream lines(ReadFile(out));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("pid=" + std::to_string(pid) + ",") == std::string::npos) continue;
    std::istringstream f(line);
    std::string type, state;
    long recv_q = 0;
    if (f >> type >> state >> recv_q) total += recv_q;
  }
  return total;
}

// SPEC section 6 (extension, issue 13): libclamav runs in sandboxed worker processes. A worker
// killed in the middle of a scan costs that one message (451, the clamav on_failure), the
// gateway keeps running, and the next message is scanned by a replacement (554 again).
TEST_F(FilterTest, ClamavWorkerKilledDuringAScanTempfailsThatMessageOnly) {
  ASSERT_TRUE(StartFiltering());
  ASSERT_TRUE(gw_->log().WaitFor("event=clamav_workers_started\\b", 10s));
  std::vector<pid_t> supervisors = ChildrenOf(gw_->process().pid());
  ASSERT_EQ(supervisors.size(), 1u) << "one clamav-worker supervisor";
  std::vector<pid_t> workers;
  ASSERT_TRUE(WaitUntil([&] { return (workers = ChildrenOf(supervisors[0])).size() == 2; }, 10s));
  for (pid_t w : workers) ASSERT_EQ(kill(w, SIGSTOP), 0);
  std::string eicar =
      MailWithAttachment("kill-1", "eicar.com", "application/octet-stream", EicarBytes());
  SendResult during;
  std::thread t([&] { during = Send("user@example.com", eicar); });
  // The message has reached a (stopped) worker's socket: the kill lands during its scan.
  bool sent = WaitUntil(
      [&] {
        long n = 0;
        for (pid_t w : workers) n += std::max(0L, PendingBytes(w));
        return n > 0;
      },
      20s);
  for (pid_t w : workers) kill(w, SIGKILL);
  t.join();
  ASSERT_TRUE(sent) << "the scan request never reached a worker";
  EXPECT_FALSE(during.accepted);
  EXPECT_TRUE(ReplyIs(FinalReply(during), "451 4.7.1")) << during.error;
  EXPECT_TRUE(gw_->log().WaitFor("event=clamav_worker_lost\\b.*\\bduring=scan\\b", 5s));
  // Replacements (new processes) scan the next message; nothing was delivered, the gateway
  // never restarted.
  std::vector<pid_t> now;
  auto replaced = [&] {
    now = ChildrenOf(supervisors[0]);
    for (pid_t p : now)
      if (std::count(workers.begin(), workers.end(), p)) return false;
    return now.size() == 2;
  };
  ASSERT_TRUE(WaitUntil(replaced, 10s));
  ExpectRefused("user@example.com",
                MailWithAttachment("kill-2", "eicar.com", "application/octet-stream", EicarBytes()),
                "554 5.7.1");
  EXPECT_TRUE(gw_->running());
  EXPECT_EQ(sink_.count(), 0u);
}

// `serve` refuses to start without a usable database: exit 2 and a clear message.
class FilterStartupTest : public FilterTest {
 protected:
  void ExpectServeExits2(const std::string& database, const std::string& want) {
    FilterSetup f;
    f.database = database;
    GatewayOptions o = FilterOptions(f);
    std::string config = dir_.File("bad-db.yaml");
    ASSERT_TRUE(WriteFile(config, GatewayConfigYaml(o, dir_.File("queue"))));
    std::string out = dir_.File("bad-db.out");
    std::string error;
    auto st = Process::Run({SW_BINARY, "serve", "-c", config}, out, 30s, &error);
    ASSERT_TRUE(st) << error;
    EXPECT_TRUE(st->exited) << st->ToString();
    EXPECT_EQ(st->code, 2) << ReadFile(out);
    EXPECT_NE(ReadFile(out).find(want), std::string::npos) << ReadFile(out);
  }
};

TEST_F(FilterStartupTest, MissingDatabaseExits2) {
  ExpectServeExits2(dir_.File("no-such-db"), "does not exist");
}

TEST_F(FilterStartupTest, EmptyDatabaseExits2) {
  std::string empty = dir_.File("empty-db");
  std::filesystem::create_directories(empty);
  ExpectServeExits2(empty, "cannot start the ClamAV filter");
  ASSERT_TRUE(WriteFile(empty + "/empty.ndb", ""));
  ExpectServeExits2(empty, "cannot start the ClamAV filter");
}

}  // namespace
}  // namespace sw::it
