#include "llm/sse_parser.h"

#include <algorithm>

namespace loupe::llm {

Status SseParser::Feed(std::string_view bytes, const std::function<Status(SseEvent&)>& on_event) {
  if (!error_.ok()) return error_;
  if (!started_ && !bytes.empty()) {
    constexpr std::string_view kBom = "\xEF\xBB\xBF";
    // A BOM split across chunks is rare enough to treat as data; whole ones are skipped.
    if (bytes.substr(0, kBom.size()) == kBom) bytes.remove_prefix(kBom.size());
    started_ = true;
  }
  size_t start = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c != '\r' && c != '\n') {
      after_cr_ = false;
      continue;
    }
    if (c == '\n' && after_cr_ && i == start && line_.empty()) {
      // The LF of a CRLF whose CR ended the previous line.
      after_cr_ = false;
      start = i + 1;
      continue;
    }
    AppendToLine(bytes.substr(start, i - start));
    error_ = Line(line_, on_event);
    line_.clear();
    line_cut_ = false;
    if (!error_.ok()) return error_;
    after_cr_ = c == '\r';
    start = i + 1;
  }
  AppendToLine(bytes.substr(start));
  if (!cut_oversized_ && line_.size() + current_.data.size() > max_event_bytes_) {
    error_ = Status::TooLarge("a server-sent event exceeds " + std::to_string(max_event_bytes_) + " bytes");
  }
  return error_;
}

void SseParser::AppendToLine(std::string_view bytes) {
  // Cutting: a line keeps at most the bound plus its field name's room ("data: ").
  if (cut_oversized_ && line_.size() + bytes.size() > max_event_bytes_ + 16) {
    bytes = bytes.substr(0, max_event_bytes_ + 16 > line_.size() ? max_event_bytes_ + 16 - line_.size() : 0);
    line_cut_ = true;
  }
  line_.append(bytes);
}

Status SseParser::Finish(const std::function<Status(SseEvent&)>& on_event) {
  if (!error_.ok()) return error_;
  if (!line_.empty()) {
    error_ = Line(line_, on_event);
    line_.clear();
    line_cut_ = false;
    if (!error_.ok()) return error_;
  }
  if (has_data_) error_ = Dispatch(on_event);
  return error_;
}

Status SseParser::Line(std::string_view line, const std::function<Status(SseEvent&)>& on_event) {
  if (line.empty()) return Dispatch(on_event);
  if (line.front() == ':') return Status::Ok();  // a comment (keep-alive)
  const size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (cut_oversized_) {  // what fits, the rest dropped: the event is marked cut
      if (line_cut_) current_.cut = true;
      size_t room = max_event_bytes_ - std::min(max_event_bytes_, current_.data.size());
      if (has_data_) {
        if (room > 0) {
          current_.data += '\n';
          --room;
        } else {
          current_.cut = true;
        }
      }
      if (value.size() > room) {
        value = value.substr(0, room);
        current_.cut = true;
      }
      current_.data.append(value);
      has_data_ = true;
      return Status::Ok();
    }
    if (has_data_) current_.data += '\n';
    current_.data.append(value);
    has_data_ = true;
    if (current_.data.size() > max_event_bytes_) {
      return Status::TooLarge("a server-sent event exceeds " + std::to_string(max_event_bytes_) + " bytes");
    }
  } else if (field == "event") {
    current_.event.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) current_.id.assign(value);
  }
  // `retry` and unknown fields are ignored, as the format says.
  return Status::Ok();
}

Status SseParser::Dispatch(const std::function<Status(SseEvent&)>& on_event) {
  Status s = Status::Ok();
  if (has_data_) s = on_event(current_);
  // The id persists across events in the format; nothing here reads it after dispatch.
  current_ = SseEvent{};
  has_data_ = false;
  return s;
}

}  // namespace loupe::llm
