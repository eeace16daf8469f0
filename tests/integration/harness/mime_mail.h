// Owns test-message builders for the filter tests: base64 MIME attachments, a stored ZIP,
// EICAR, CRLF conversion and fixture files. Fails by empty results; pure functions, no I/O
// except ReadFixture.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sw::it {

// The 68-byte EICAR anti-virus test file.
std::string EicarBytes();
// GTUBE, the generic test for unsolicited bulk email (rspamd rejects it).
std::string GtubeLine();
// RFC 4648 base64, CRLF-broken into 76-column lines (each ends with CRLF).
std::string Base64Lines(std::string_view data);
// CRC-32 (ISO-HDLC, as ZIP uses).
uint32_t Crc32(std::string_view data);
// A ZIP archive with one stored (uncompressed) entry.
std::string StoredZip(const std::string& name, std::string_view data);
// multipart/mixed: a text part and one base64 attachment. `marker` goes into Subject and
// Message-ID. CRLF lines.
std::string MailWithAttachment(const std::string& marker, const std::string& filename,
                               const std::string& content_type, std::string_view data);
// LF or CRLF text -> CRLF lines (a final line break added when missing).
std::string ToCrlf(std::string_view text);
// Contents of SW_SOURCE_DIR/tests/fixtures/<relative>; empty when missing.
std::string ReadFixture(const std::string& relative);
std::string FixturePath(const std::string& relative);
// Copies the fixture tree `relative` to `dest` (created) with every message's Date set to now
// (WithCurrentDate); returns `dest`, empty on failure. Fixture mail is dated when it was
// written; a scan of the copy never depends on the day the suite runs.
std::string DatedFixtureCopy(const std::string& relative, const std::string& dest);

}  // namespace sw::it
