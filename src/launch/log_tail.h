// Follows a job's log file (stdout or stderr) and cuts what was appended into console
// lines: each complete line once, a trailing '\r' dropped, a line longer than the
// console's limit split at a UTF-8 boundary, and a progress bar's carriage returns
// reduced to what the terminal would show. Each batch ends at a byte offset of the file,
// which is the console write's sequence number: a batch written twice (a restart of
// Loupe between the write and reading on) is stored once, and reading resumes from the
// highest offset stored.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/store_types.h"

namespace loupe::launch {

// One line of output as console lines: what a terminal shows of it (the text after its
// last carriage return), cut into pieces of at most LogTail::kMaxLineBytes at UTF-8
// boundaries (the console's limit per line).
std::vector<std::string_view> ConsolePieces(std::string_view text);

struct LogBatch {
  std::vector<ConsoleLine> lines;
  int64_t start_offset = 0;  // the file offset of the batch's first line
  int64_t end_offset = 0;    // the file offset after the batch's last line
};

class LogTail {
 public:
  LogTail(std::string path, int stream, int64_t offset);
  ~LogTail();
  LogTail(const LogTail&) = delete;
  LogTail& operator=(const LogTail&) = delete;

  // What was appended since the last call, in batches of at most `max_lines` lines, reading
  // at most `max_bytes`. `final`: the process has ended, so a last line without a newline
  // is a line too. `now` stamps the lines.
  std::vector<LogBatch> Read(int64_t now, bool final, size_t max_lines = 10000, size_t max_bytes = 8 << 20);
  int64_t offset() const { return offset_; }
  // Reads again from `offset` (a batch's start_offset) next time: its write failed.
  void Rewind(int64_t offset) {
    offset_ = offset;
    pending_.clear();
  }

  static constexpr size_t kMaxLineBytes = 65536;

 private:
  void Emit(std::string_view text, int64_t start, int64_t end, int64_t now, size_t max_lines,
            std::vector<LogBatch>& out);

  std::string path_;
  int stream_;
  int fd_ = -1;
  int64_t offset_;      // the end of the last line handed out
  std::string pending_; // read past offset_, not yet a whole line
};

}  // namespace loupe::launch
