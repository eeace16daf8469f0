// Owns test-message builders for the filter tests: base64 MIME attachments, a stored ZIP,
// EICAR, CRLF conversion and fixture files. Fails by empty results; pure functions, no I/O
// except ReadFixture.
#include "tests/integration/harness/mime_mail.h"

#include <filesystem>

#include "tests/integration/harness/message_text.h"
#include "tests/integration/harness/process.h"

#ifndef SW_SOURCE_DIR
#error "SW_SOURCE_DIR must name the source tree"
#endif

namespace sw::it {

namespace {
void Put16(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v & 0xFF));
  out->push_back(static_cast<char>((v >> 8) & 0xFF));
}
void Put32(std::string* out, uint32_t v) {
  Put16(out, v & 0xFFFF);
  Put16(out, v >> 16);
}
}  // namespace

std::string EicarBytes() {
  return R"(X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*)";
}

std::string GtubeLine() {
  return "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
}

std::string Base64Lines(std::string_view data) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string enc;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    for (int k = 18; k >= 0; k -= 6) enc.push_back(kAlphabet[(n >> k) & 63]);
  }
  if (i < data.size()) {
    uint32_t n = static_cast<unsigned char>(data[i]) << 16;
    if (i + 1 < data.size()) n |= static_cast<unsigned char>(data[i + 1]) << 8;
    enc.push_back(kAlphabet[(n >> 18) & 63]);
    enc.push_back(kAlphabet[(n >> 12) & 63]);
    enc.push_back(i + 1 < data.size() ? kAlphabet[(n >> 6) & 63] : '=');
    enc.push_back('=');
  }
  std::string out;
  for (size_t p = 0; p < enc.size(); p += 76) out += enc.substr(p, 76) + "\r\n";
  return out;
}

uint32_t Crc32(std::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (char ch : data) {
    crc ^= static_cast<unsigned char>(ch);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string StoredZip(const std::string& name, std::string_view data) {
  uint32_t crc = Crc32(data);
  uint32_t size = static_cast<uint32_t>(data.size());
  std::string z;
  // Local file header.
  Put32(&z, 0x04034b50);
  Put16(&z, 10);    // version needed
  Put16(&z, 0);     // flags
  Put16(&z, 0);     // stored
  Put16(&z, 0);     // time
  Put16(&z, 0x21);  // date 1980-01-01
  Put32(&z, crc);
  Put32(&z, size);
  Put32(&z, size);
  Put16(&z, static_cast<uint32_t>(name.size()));
  Put16(&z, 0);
  z += name;
  z.append(data);
  uint32_t central = static_cast<uint32_t>(z.size());
  // Central directory header.
  Put32(&z, 0x02014b50);
  Put16(&z, 20);  // made by
  Put16(&z, 10);
  Put16(&z, 0);
  Put16(&z, 0);
  Put16(&z, 0);
  Put16(&z, 0x21);
  Put32(&z, crc);
  Put32(&z, size);
  Put32(&z, size);
  Put16(&z, static_cast<uint32_t>(name.size()));
  Put16(&z, 0);  // extra
  Put16(&z, 0);  // comment
  Put16(&z, 0);  // disk
  Put16(&z, 0);  // internal attrs
  Put32(&z, 0);  // external attrs
  Put32(&z, 0);  // local header offset
  z += name;
  uint32_t central_size = static_cast<uint32_t>(z.size()) - central;
  // End of central directory.
  Put32(&z, 0x06054b50);
  Put16(&z, 0);
  Put16(&z, 0);
  Put16(&z, 1);
  Put16(&z, 1);
  Put32(&z, central_size);
  Put32(&z, central);
  Put16(&z, 0);
  return z;
}

std::string MailWithAttachment(const std::string& marker, const std::string& filename,
                               const std::string& content_type, std::string_view data) {
  std::string b = "=_sw_boundary_" + marker;
  return "From: Sender <sender@client.test>\r\n"
         "To: User <user@example.com>\r\n"
         "Subject: attachment " +
         marker +
         "\r\n"
         "Message-ID: <" +
         marker +
         "@client.test>\r\n"
         "Date: " +
         CurrentDate() +
         "\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"" +
         b +
         "\"\r\n"
         "\r\n"
         "This is a multi-part message in MIME format.\r\n"
         "--" +
         b +
         "\r\n"
         "Content-Type: text/plain; charset=us-ascii\r\n"
         "\r\n"
         "Please see the attachment.\r\n"
         "--" +
         b +
         "\r\n"
         "Content-Type: " +
         content_type +
         "\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "Content-Disposition: attachment; filename=\"" +
         filename +
         "\"\r\n"
         "\r\n" +
         Base64Lines(data) + "--" + b + "--\r\n";
}

std::string ToCrlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 40);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out.push_back(c);
    }
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

std::string FixturePath(const std::string& relative) {
  return std::string(SW_SOURCE_DIR) + "/tests/fixtures/" + relative;
}

std::string ReadFixture(const std::string& relative) { return ReadFile(FixturePath(relative)); }

std::string DatedFixtureCopy(const std::string& relative, const std::string& dest) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path from = FixturePath(relative);
  fs::create_directories(dest, ec);
  if (ec) return "";
  for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    fs::path to = fs::path(dest) / fs::relative(it->path(), from);
    if (it->is_directory()) {
      fs::create_directories(to, ec);
    } else if (it->is_regular_file()) {
      if (!WriteFile(to.string(), WithCurrentDate(ReadFile(it->path().string())))) return "";
    }
  }
  return ec ? "" : dest;
}

}  // namespace sw::it
