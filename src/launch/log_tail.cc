#include "launch/log_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace loupe::launch {

namespace {

// The longest prefix of at most `max` bytes that does not cut a UTF-8 sequence.
size_t Utf8Cut(std::string_view s, size_t max) {
  if (s.size() <= max) return s.size();
  size_t cut = max;
  for (int back = 0; back < 3 && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80; ++back) --cut;
  return cut == 0 ? max : cut;
}

// What a terminal shows of a line written with carriage returns: the text after the last
// one that is followed by something (a trailing '\r' is just the end of a CRLF).
std::string_view AfterCarriageReturns(std::string_view s) {
  while (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  const size_t cr = s.rfind('\r');
  return cr == std::string_view::npos ? s : s.substr(cr + 1);
}

}  // namespace

std::vector<std::string_view> ConsolePieces(std::string_view text) {
  text = AfterCarriageReturns(text);
  std::vector<std::string_view> pieces;
  do {
    const size_t n = Utf8Cut(text, LogTail::kMaxLineBytes);
    pieces.push_back(text.substr(0, n));
    text.remove_prefix(n);
  } while (!text.empty());
  return pieces;
}

LogTail::LogTail(std::string path, int stream, int64_t offset)
    : path_(std::move(path)), stream_(stream), offset_(offset) {}

LogTail::~LogTail() {
  if (fd_ >= 0) close(fd_);
}

void LogTail::Emit(std::string_view text, int64_t start, int64_t end, int64_t now, size_t max_lines,
                   std::vector<LogBatch>& out) {
  const std::vector<std::string_view> pieces = ConsolePieces(text);
  // A line cut in pieces stays in one batch, so a batch starts where a line does (and a
  // batch never holds more than max_lines: a read is at most 8 MiB, 128 pieces).
  if (out.empty() || out.back().lines.size() + pieces.size() > max_lines) {
    out.emplace_back();
    out.back().start_offset = start;
  }
  for (std::string_view p : pieces) out.back().lines.push_back({0, stream_, now, std::string(p)});
  out.back().end_offset = end;
}

std::vector<LogBatch> LogTail::Read(int64_t now, bool final, size_t max_lines, size_t max_bytes) {
  std::vector<LogBatch> out;
  if (fd_ < 0) {
    fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return out;
  }
  struct stat st {};
  if (fstat(fd_, &st) != 0) return out;
  const int64_t read_from = offset_ + static_cast<int64_t>(pending_.size());
  bool at_end = true;
  if (st.st_size > read_from) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(st.st_size - read_from, static_cast<int64_t>(max_bytes)));
    const size_t had = pending_.size();
    pending_.resize(had + want);
    ssize_t got = pread(fd_, pending_.data() + had, want, read_from);
    pending_.resize(had + static_cast<size_t>(std::max<ssize_t>(got, 0)));
    at_end = read_from + got >= st.st_size;
  }
  size_t start = 0;
  for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
    Emit(std::string_view(pending_).substr(start, nl - start), offset_ + static_cast<int64_t>(start),
         offset_ + static_cast<int64_t>(nl + 1), now, max_lines, out);
  }
  // A line with no end yet: past the console's limit it is cut into whole-limit pieces
  // (after what carriage returns hide), so a progress bar without newlines never grows
  // without bound. Also at the end of the process.
  std::string_view rest = std::string_view(pending_).substr(start);
  if (!rest.empty() && final && at_end) {
    Emit(rest, offset_ + static_cast<int64_t>(start), offset_ + static_cast<int64_t>(pending_.size()), now, max_lines,
         out);
    start = pending_.size();
  } else if (rest.size() > kMaxLineBytes * 4) {
    // Cut where a UTF-8 character starts, so a character split by the writer's chunks
    // stays whole in the next piece.
    size_t cut = rest.size();
    for (int back = 0; back < 3 && cut > 0 && (static_cast<unsigned char>(rest[cut - 1]) & 0xC0) == 0x80; ++back) --cut;
    if (cut > 0 && (static_cast<unsigned char>(rest[cut - 1]) & 0xC0) == 0xC0) --cut;  // a lead byte without its tail
    Emit(rest.substr(0, cut), offset_ + static_cast<int64_t>(start), offset_ + static_cast<int64_t>(start + cut), now,
         max_lines, out);
    start += cut;
  }
  offset_ += static_cast<int64_t>(start);
  pending_.erase(0, start);
  return out;
}

}  // namespace loupe::launch
