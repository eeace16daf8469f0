// Tests the libclamav engine with a database built by tests/fixtures/make-clamav-db.sh: startup
// failures, detections in raw files, MIME and ZIP, and reloads under load. Fails with an
// assertion.
#include "filters/clamav_engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace sw::filters {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kEicar =
    R"(X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*)";
const std::string kEicarBase64 =
    "WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNU\r\n"
    "LUZJTEUhJEgrSCo=\r\n";

std::string Mail(const std::string& attachment_base64) {
  return "From: a@b.test\r\nTo: c@d.test\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
         "--XX\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
         "--XX\r\nContent-Type: application/octet-stream\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "Content-Disposition: attachment; filename=\"x.com\"\r\n\r\n" +
         attachment_base64 + "--XX--\r\n";
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Hex(const std::string& s) {
  std::string out;
  char b[3];
  for (unsigned char c : s) {
    std::snprintf(b, sizeof b, "%02x", c);
    out += b;
  }
  return out;
}

class ClamavEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sw-clamav-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = dir_ + "/db";
    std::string cmd = "sh " + std::string(SW_SOURCE_DIR) + "/tests/fixtures/make-clamav-db.sh " +
                      db_ + " >" + dir_ + "/build.log 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << Read(dir_ + "/build.log");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  ClamavOptions Options() { return {db_, dir_, 100ms}; }
  // Replaces test.ndb (write + rename) with one more signature for `marker`.
  void AddSignature(const std::string& name, const std::string& marker) {
    std::string ndb = Read(db_ + "/test.ndb") + name + ":0:*:" + Hex(marker) + "\n";
    Write(db_ + "/.new", ndb);
    fs::rename(db_ + "/.new", db_ + "/test.ndb");
  }

  std::string dir_, db_;
};

TEST_F(ClamavEngineTest, MissingEmptyOrBrokenDatabaseFailsToOpen) {
  std::string error;
  EXPECT_FALSE(ClamavEngine::Open({dir_ + "/nope", dir_, 1s}, &error));
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
  fs::create_directories(dir_ + "/empty");
  EXPECT_FALSE(ClamavEngine::Open({dir_ + "/empty", dir_, 1s}, &error));
  EXPECT_NE(error.find("/empty`"), std::string::npos) << error;
  Write(dir_ + "/empty/none.ndb", "");
  EXPECT_FALSE(ClamavEngine::Open({dir_ + "/empty", dir_, 1s}, &error));
  EXPECT_FALSE(ClamavEngine::Open({db_, dir_ + "/no-tmp", 1s}, &error));
  EXPECT_NE(error.find("temp_dir"), std::string::npos) << error;
}

TEST_F(ClamavEngineTest, DetectsEicarRawInMimeAndCleanPasses) {
  std::string error;
  auto engine = ClamavEngine::Open(Options(), &error);
  ASSERT_TRUE(engine) << error;
  EXPECT_GE(engine->signatures(), 4u);
  EXPECT_EQ(engine->generation(), 1u);
  ClamavScan raw = engine->Scan(kEicar);
  ASSERT_TRUE(raw.ok) << raw.error;
  EXPECT_EQ(raw.virus.rfind("Eicar-Test-Signature", 0), 0u) << raw.virus;
  ClamavScan mime = engine->Scan(Mail(kEicarBase64));
  ASSERT_TRUE(mime.ok) << mime.error;
  EXPECT_EQ(mime.virus.rfind("Eicar-Test-Signature", 0), 0u) << mime.virus;
  ClamavScan clean = engine->Scan(Mail("aGVsbG8gd29ybGQK\r\n"));
  ASSERT_TRUE(clean.ok) << clean.error;
  EXPECT_TRUE(clean.virus.empty()) << clean.virus;
  // Scratch files go to the temp dir and are cleaned up.
  size_t left = 0;
  for (const auto& e : fs::directory_iterator(dir_))
    left += e.path().filename().string().rfind("clamav-", 0) == 0;
  EXPECT_EQ(left, 0u);
}

TEST_F(ClamavEngineTest, ReloadsAChangedDatabaseAndKeepsTheOldOneOnFailure) {
  std::string error;
  auto engine = ClamavEngine::Open(Options(), &error);
  ASSERT_TRUE(engine) << error;
  const std::string marker = "SW-UNIT-RELOAD-MARKER-0042";
  EXPECT_TRUE(engine->Scan(marker).virus.empty());
  EXPECT_FALSE(engine->ReloadIfChanged());  // nothing changed
  AddSignature("Unit-Reload", marker);
  EXPECT_TRUE(engine->ReloadIfChanged());
  EXPECT_EQ(engine->generation(), 2u);
  EXPECT_EQ(engine->Scan(marker).virus, "Unit-Reload.UNOFFICIAL");
  // A broken database is not swapped in; scanning goes on with the last good engine.
  Write(db_ + "/broken.ndb", "this is not a signature\n");
  EXPECT_FALSE(engine->ReloadIfChanged());
  EXPECT_EQ(engine->generation(), 2u);
  EXPECT_EQ(engine->Scan(marker).virus, "Unit-Reload.UNOFFICIAL");
  EXPECT_FALSE(engine->ReloadIfChanged());  // the same broken files are not retried
  fs::remove(db_ + "/broken.ndb");
  EXPECT_TRUE(engine->ReloadIfChanged());
  EXPECT_EQ(engine->generation(), 3u);
}

TEST_F(ClamavEngineTest, BackgroundReloadNeverFailsAScan) {
  std::string error;
  auto engine = ClamavEngine::Open(Options(), &error);
  ASSERT_TRUE(engine) << error;
  engine->StartReloading();
  std::atomic<bool> stop{false};
  std::atomic<int> scans{0}, errors{0}, misses{0};
  std::vector<std::thread> scanners;
  for (int t = 0; t < 2; ++t) {
    scanners.emplace_back([&] {
      while (!stop) {
        ClamavScan s = engine->Scan(Mail(kEicarBase64));
        ++scans;
        if (!s.ok)
          ++errors;
        else if (s.virus.empty())
          ++misses;
      }
    });
  }
  for (int i = 0; i < 3; ++i) {
    AddSignature("Bg-Reload-" + std::to_string(i), "SW-BG-MARKER-" + std::to_string(i));
    uint64_t want = engine->generation() + 1;
    for (int w = 0; w < 100 && engine->generation() < want; ++w) std::this_thread::sleep_for(20ms);
    EXPECT_GE(engine->generation(), want);
  }
  stop = true;
  for (auto& t : scanners) t.join();
  engine->Stop();
  EXPECT_GT(scans, 0);
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(misses, 0);
  EXPECT_EQ(engine->Scan("SW-BG-MARKER-2").virus, "Bg-Reload-2.UNOFFICIAL");
}

TEST(ClamavFingerprint, ChangesWithContentNamesAndMtime) {
  char tmpl[] = "/tmp/sw-clamav-fp-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string d = tmpl;
  std::string a = ClamavEngine::Fingerprint(d);
  Write(d + "/x.ndb", "1");
  std::string b = ClamavEngine::Fingerprint(d);
  EXPECT_NE(a, b);
  EXPECT_EQ(b, ClamavEngine::Fingerprint(d));
  Write(d + "/.hidden", "ignored");
  EXPECT_EQ(b, ClamavEngine::Fingerprint(d));
  Write(d + "/x.ndb", "2");  // same size, newer mtime (nanoseconds)
  EXPECT_NE(b, ClamavEngine::Fingerprint(d));
  EXPECT_EQ(ClamavEngine::Fingerprint(d + "/missing"), "missing");
  std::error_code ec;
  fs::remove_all(d, ec);
}

}  // namespace
}  // namespace sw::filters
