// Owns corpus input for the QA tools: message files, directories (recursive, maildir), mbox.
// Fails soft: an unreadable path becomes a CorpusMessage with `error` set, never a throw.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw::qa {

enum class Label { kUnknown, kSpam, kHam };

const char* LabelName(Label label);  // "spam", "ham", "" (unknown)
// "spam" / "ham" (case-insensitive) -> the label; nullopt otherwise.
std::optional<Label> ParseLabel(std::string_view s);

// The label a path implies: the component nearest the file whose words (runs of letters)
// include "spam"/"spams" or "ham"/"hams": "spam-2", "easy-ham-1", "ham.mbox", "Spam_2024".
// "spamweeder" names no label. kUnknown when no component does.
Label LabelFromPath(std::string_view path);

// One message of the corpus (or one path that could not be read).
struct CorpusMessage {
  std::string path;   // the file; "FILE#N" for the N-th message (1-based) of an mbox
  std::string group;  // name of the directory holding it ("" for a bare file argument)
  Label label = Label::kUnknown;
  std::string data;   // the message as stored (mbox: separator removed, ">From " unescaped)
  std::string error;  // non-empty: unreadable; `data` is empty
};

// One file the reader will open, and how.
struct CorpusFile {
  std::string path;
  std::string group;
  Label label = Label::kUnknown;
  std::string error;  // the argument could not be listed (missing path, unreadable directory)
};

// Expands `paths` (files and directories, recursively, in sorted order). Hidden files (".x")
// are skipped; hidden directories are kept (maildir++ folders), a maildir's tmp/ is skipped.
// `forced` (from --label) overrides path labels when not kUnknown.
std::vector<CorpusFile> ListCorpus(const std::vector<std::string>& paths, Label forced);

// True when `data` is an mbox: its first line starts with "From ".
bool IsMbox(std::string_view data);
// Splits an mbox at lines starting "From " (the separators are dropped) and unescapes
// ">From " / ">>From " (one '>' removed, mboxrd). Messages keep their own line endings.
std::vector<std::string> SplitMbox(std::string_view data);

// Reads the files of a listing one at a time and yields their messages in order.
class CorpusReader {
 public:
  explicit CorpusReader(std::vector<CorpusFile> files) : files_(std::move(files)) {}
  // The next message (or error row); false at the end.
  bool Next(CorpusMessage* out);
  size_t files_total() const { return files_.size(); }
  size_t files_done() const { return next_file_; }

 private:
  std::vector<CorpusFile> files_;
  size_t next_file_ = 0;
  // Pending messages of the current mbox.
  std::vector<std::string> pending_;
  size_t pending_pos_ = 0;
  const CorpusFile* pending_file_ = nullptr;
};

}  // namespace sw::qa
