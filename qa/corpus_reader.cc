// Owns corpus input for the QA tools: message files, directories (recursive, maildir), mbox.
// Fails soft: an unreadable path becomes a CorpusMessage with `error` set, never a throw.
#include "qa/corpus_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sw::qa {

namespace fs = std::filesystem;

const char* LabelName(Label label) {
  switch (label) {
    case Label::kSpam:
      return "spam";
    case Label::kHam:
      return "ham";
    case Label::kUnknown:
      break;
  }
  return "";
}

std::optional<Label> ParseLabel(std::string_view s) {
  std::string l;
  for (char c : s) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (l == "spam") return Label::kSpam;
  if (l == "ham") return Label::kHam;
  return std::nullopt;
}

namespace {

Label ComponentLabel(std::string_view component) {
  Label found = Label::kUnknown;
  size_t i = 0;
  while (i < component.size()) {
    while (i < component.size() && !std::isalpha(static_cast<unsigned char>(component[i]))) ++i;
    size_t start = i;
    while (i < component.size() && std::isalpha(static_cast<unsigned char>(component[i]))) ++i;
    if (i == start) break;
    auto label = ParseLabel(component.substr(start, i - start));
    std::string_view word = component.substr(start, i - start);
    if (!label && word.size() > 1 && (word.back() == 's' || word.back() == 'S'))
      label = ParseLabel(word.substr(0, word.size() - 1));
    if (label) {
      if (found != Label::kUnknown && found != *label) return Label::kUnknown;  // "spam-vs-ham"
      found = *label;
    }
  }
  return found;
}

// The directory name that groups a file: its parent, or the maildir above cur/ and new/.
std::string GroupOf(const fs::path& file) {
  fs::path dir = file.parent_path();
  std::string name = dir.filename().string();
  if ((name == "cur" || name == "new") && dir.has_parent_path()) {
    fs::path maildir = dir.parent_path();
    std::error_code ec;
    if (fs::is_directory(maildir / "cur", ec) || fs::is_directory(maildir / "new", ec))
      return maildir.filename().string();
  }
  return name;
}

bool IsMaildir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "cur", ec) && fs::is_directory(dir / "new", ec);
}

void ListDirectory(const fs::path& dir, Label forced, std::vector<CorpusFile>* out) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) {
    CorpusFile f;
    f.path = dir.string();
    f.error = ec.message();
    out->push_back(std::move(f));
    return;
  }
  std::vector<fs::path> entries;
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    entries.push_back(it->path());
  }
  if (ec) {
    CorpusFile f;
    f.path = dir.string();
    f.error = ec.message();
    out->push_back(std::move(f));
  }
  std::sort(entries.begin(), entries.end());
  bool maildir = IsMaildir(dir);
  for (const auto& p : entries) {
    std::string name = p.filename().string();
    std::error_code sec;
    bool is_dir = fs::is_directory(p, sec);
    if (is_dir) {
      if (maildir && name == "tmp") continue;  // messages being delivered
      if (name == "." || name == "..") continue;
      ListDirectory(p, forced, out);
      continue;
    }
    if (!name.empty() && name[0] == '.') continue;
    CorpusFile f;
    f.path = p.string();
    f.group = GroupOf(p);
    f.label = forced != Label::kUnknown ? forced : LabelFromPath(f.path);
    out->push_back(std::move(f));
  }
}

bool ReadWholeFile(const std::string& path, std::string* data, std::string* error) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    *error = "is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    *error = "read error";
    return false;
  }
  *data = std::move(ss).str();
  return true;
}

}  // namespace

Label LabelFromPath(std::string_view path) {
  // Nearest component first.
  size_t end = path.size();
  while (end > 0) {
    size_t slash = path.rfind('/', end - 1);
    size_t start = slash == std::string_view::npos ? 0 : slash + 1;
    Label l = ComponentLabel(path.substr(start, end - start));
    if (l != Label::kUnknown) return l;
    if (slash == std::string_view::npos) break;
    end = slash;
  }
  return Label::kUnknown;
}

std::vector<CorpusFile> ListCorpus(const std::vector<std::string>& paths, Label forced) {
  std::vector<CorpusFile> out;
  for (const auto& arg : paths) {
    std::error_code ec;
    fs::file_status st = fs::status(arg, ec);
    if (ec || !fs::exists(st)) {
      CorpusFile f;
      f.path = arg;
      f.error = ec ? ec.message() : "no such file or directory";
      out.push_back(std::move(f));
      continue;
    }
    if (fs::is_directory(st)) {
      ListDirectory(fs::path(arg), forced, &out);
      continue;
    }
    CorpusFile f;
    f.path = arg;
    fs::path p(arg);
    f.group = p.has_parent_path() ? GroupOf(p) : "";
    f.label = forced != Label::kUnknown ? forced : LabelFromPath(arg);
    out.push_back(std::move(f));
  }
  return out;
}

bool IsMbox(std::string_view data) { return data.substr(0, 5) == "From "; }

std::vector<std::string> SplitMbox(std::string_view data) {
  std::vector<std::string> messages;
  std::string* cur = nullptr;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    size_t next = nl == std::string_view::npos ? data.size() : nl + 1;
    std::string_view line = data.substr(pos, next - pos);
    if (line.substr(0, 5) == "From ") {
      messages.emplace_back();
      cur = &messages.back();
    } else {
      if (!cur) {  // text before the first separator (not an mbox start): keep it
        messages.emplace_back();
        cur = &messages.back();
      }
      size_t gt = 0;
      while (gt < line.size() && line[gt] == '>') ++gt;
      if (gt > 0 && line.substr(gt, 5) == "From ") line.remove_prefix(1);
      cur->append(line);
    }
    pos = next;
  }
  // The blank line before each separator belongs to the mbox format, not the message.
  for (auto& m : messages) {
    if (m.size() >= 4 && m.compare(m.size() - 4, 4, "\r\n\r\n") == 0) {
      m.resize(m.size() - 2);
    } else if (m.size() >= 2 && m.compare(m.size() - 2, 2, "\n\n") == 0) {
      m.pop_back();
    }
  }
  return messages;
}

bool CorpusReader::Next(CorpusMessage* out) {
  for (;;) {
    if (pending_file_ && pending_pos_ < pending_.size()) {
      out->path = pending_file_->path + "#" + std::to_string(pending_pos_ + 1);
      out->group = pending_file_->group;
      out->label = pending_file_->label;
      out->data = std::move(pending_[pending_pos_++]);
      out->error.clear();
      return true;
    }
    pending_.clear();
    pending_pos_ = 0;
    pending_file_ = nullptr;
    if (next_file_ >= files_.size()) return false;
    const CorpusFile& f = files_[next_file_++];
    out->path = f.path;
    out->group = f.group;
    out->label = f.label;
    out->data.clear();
    out->error = f.error;
    if (!f.error.empty()) return true;
    std::string data;
    if (!ReadWholeFile(f.path, &data, &out->error)) return true;
    if (!IsMbox(data)) {
      out->data = std::move(data);
      return true;
    }
    pending_ = SplitMbox(data);
    pending_file_ = &f;
    if (pending_.size() == 1) {  // one message with a separator line: name it by the file
      out->data = std::move(pending_[0]);
      pending_.clear();
      pending_file_ = nullptr;
      return true;
    }
  }
}

}  // namespace sw::qa
