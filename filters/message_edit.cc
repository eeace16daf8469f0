// Owns header edits of a stored message: remove, insert after our Received header, tag Subject.
// Pure string functions; malformed input is handled conservatively and nothing here fails.
#include "filters/message_edit.h"

#include <strings.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "common/header_text.h"

namespace sw::filters {

namespace {

struct Field {
  std::string_view name;  // empty for a line that is not a field (kept as is)
  size_t start = 0;
  size_t end = 0;  // one past its last line's CRLF
  bool removed = false;
};

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

// Splits the header section into fields; returns the offset where it ends (the blank line,
// or the end of the message).
size_t ParseHeader(std::string_view m, std::vector<Field>* fields) {
  size_t pos = 0;
  while (pos < m.size()) {
    size_t eol = m.find('\n', pos);
    size_t next = eol == std::string_view::npos ? m.size() : eol + 1;
    std::string_view line = m.substr(pos, next - pos);
    if (line == "\r\n" || line == "\n") return pos;  // blank line: the body follows
    if (IsWsp(line[0]) && !fields->empty()) {
      fields->back().end = next;  // continuation
    } else {
      Field f;
      f.start = pos;
      f.end = next;
      size_t colon = line.find(':');
      if (colon != std::string_view::npos && ValidHeaderName(line.substr(0, colon)))
        f.name = line.substr(0, colon);
      fields->push_back(f);
    }
    pos = next;
  }
  return pos;
}

std::string FieldText(std::string_view name, std::string_view value) {
  std::string out(name);
  out += ": ";
  out += NormalizeHeaderValue(value);
  out += "\r\n";
  return out;
}

// The value of a field: after the colon, one leading space dropped, trailing CRLF dropped.
std::string_view FieldValue(std::string_view field) {
  size_t colon = field.find(':');
  std::string_view v = field.substr(colon + 1);
  if (!v.empty() && v[0] == ' ') v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.remove_suffix(1);
  return v;
}

}  // namespace

bool ValidHeaderName(std::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || u == ':') return false;
  }
  return true;
}

std::string NormalizeHeaderValue(std::string_view value) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t br = value.find_first_of("\r\n", pos);
    if (br == std::string_view::npos) {
      lines.push_back(value.substr(pos));
      break;
    }
    lines.push_back(value.substr(pos, br - pos));
    pos = br + (value.compare(br, 2, "\r\n") == 0 ? 2 : 1);
  }
  std::string out;
  bool first = true;
  for (auto line : lines) {
    if (first) {
      out = HeaderText(line);
      first = false;
      continue;
    }
    size_t text = line.find_first_not_of(" \t");
    if (text == std::string_view::npos) continue;  // no whitespace-only continuation line
    // The fold's own whitespace stays (bounded); the text passes the one sanitiser.
    std::string_view fold = line.substr(0, std::min<size_t>(text, 8));
    out += "\r\n";
    out += fold.empty() ? std::string_view("\t") : fold;
    out += HeaderText(line.substr(text));
  }
  return out;
}

std::string ApplyHeaderChanges(std::string_view m, const Verdict& v) {
  std::vector<Field> fields;
  size_t header_end = ParseHeader(m, &fields);
  // Field 0 is our own Received header; without one, everything is the client's.
  size_t first_client = 0;
  size_t insert_at = 0;
  if (!fields.empty() && IEquals(fields[0].name, "Received")) {
    first_client = 1;
    insert_at = fields[0].end;
  }

  for (const auto& r : v.remove_headers) {
    std::vector<Field*> occ;
    for (size_t i = first_client; i < fields.size(); ++i)
      if (!fields[i].name.empty() && IEquals(fields[i].name, r.name)) occ.push_back(&fields[i]);
    if (r.index == 0) {
      for (auto* f : occ) f->removed = true;
    } else if (r.index > 0 && static_cast<size_t>(r.index) <= occ.size()) {
      occ[static_cast<size_t>(r.index) - 1]->removed = true;
    } else if (r.index < 0 && static_cast<size_t>(-static_cast<long>(r.index)) <= occ.size()) {
      occ[occ.size() - static_cast<size_t>(-static_cast<long>(r.index))]->removed = true;
    }
  }

  std::optional<size_t> subject;
  bool change_subject = !v.new_subject.empty() || !v.subject_prefix.empty();
  if (change_subject) {
    for (size_t i = first_client; i < fields.size(); ++i)
      if (!fields[i].removed && IEquals(fields[i].name, "Subject")) {
        subject = i;
        break;
      }
  }
  auto subject_text = [&](std::string_view old_value) {
    if (!v.new_subject.empty()) return FieldText("Subject", v.new_subject);
    std::string value = v.subject_prefix;
    if (!old_value.empty()) value += " " + std::string(old_value);
    return FieldText("Subject", value);
  };

  std::string out;
  out.reserve(m.size() + 1024);
  out.append(m.substr(0, insert_at));
  for (const auto& h : v.add_headers)
    if (ValidHeaderName(h.name)) out += FieldText(h.name, h.value);
  if (change_subject && !subject) out += subject_text("");
  for (size_t i = first_client; i < fields.size(); ++i) {
    const Field& f = fields[i];
    if (f.removed) continue;
    std::string_view text = m.substr(f.start, f.end - f.start);
    if (subject && *subject == i) {
      out += subject_text(FieldValue(text));
    } else {
      out.append(text);
    }
  }
  out.append(m.substr(header_end));
  return out;
}

}  // namespace sw::filters
