// SseParser: server-sent events (the WHATWG event-stream format) decoded incrementally
// from the bytes of a streamed HTTP body, however the network splits them: lines end
// with CRLF, LF or CR (a CR at the end of one chunk and an LF at the start of the next are
// one line end), `:` lines are comments, `data:` lines join with '\n', a blank line
// dispatches. One parser per response; not thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace loupe::llm {

struct SseEvent {
  std::string event;  // the `event:` field; empty means "message"
  std::string data;   // `data:` lines joined with '\n'
  std::string id;
  bool cut = false;   // the data passed the bound and was cut there (parsers made with cut_oversized)
};

class SseParser {
 public:
  // A provider that never ends a line or an event must not grow memory without bound.
  // An event over the bound is an error; with `cut_oversized` it is cut at the bound and
  // dispatched (SseEvent::cut) with its id, so that a stream resumed from that id does
  // not meet it again (a log stream, where one giant line must not stop every line after it).
  explicit SseParser(size_t max_event_bytes = 4 << 20, bool cut_oversized = false)
      : max_event_bytes_(max_event_bytes), cut_oversized_(cut_oversized) {}

  // Feeds the next bytes; calls `on_event` for each complete event. An error (an event
  // over the bound, or one returned by `on_event`) stops the parse: later Feed calls
  // return it again.
  Status Feed(std::string_view bytes, const std::function<Status(SseEvent&)>& on_event);
  // The body ended: a pending event without its blank line is dispatched, as browsers do
  // not, but providers that close right after the last `data:` line do exist.
  Status Finish(const std::function<Status(SseEvent&)>& on_event);

  // Whether anything arrived that is not yet a whole event (a cut-off stream leaves some).
  bool HasPartial() const { return !line_.empty() || has_data_ || !current_.event.empty(); }

 private:
  Status Line(std::string_view line, const std::function<Status(SseEvent&)>& on_event);
  Status Dispatch(const std::function<Status(SseEvent&)>& on_event);
  void AppendToLine(std::string_view bytes);

  size_t max_event_bytes_;
  bool cut_oversized_;
  std::string line_;
  bool after_cr_ = false;  // the last byte was a CR: an LF next belongs to the same line end
  bool started_ = false;   // a leading byte-order mark is skipped once
  bool has_data_ = false;
  bool line_cut_ = false;  // the line being read passed the bound (cut_oversized)
  SseEvent current_;
  Status error_ = Status::Ok();
};

}  // namespace loupe::llm
