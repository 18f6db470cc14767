#include "web/metric_batch_parser.h"

#include <simdjson.h>

#include <cmath>
#include <limits>
#include <strings.h>

#include "tracking/validation.h"

namespace loupe {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::optional<double> NonFinite(std::string_view s) {
  auto eq = [&](const char* w) { return s.size() == strlen(w) && strncasecmp(s.data(), w, s.size()) == 0; };
  if (eq("nan")) return std::numeric_limits<double>::quiet_NaN();
  if (eq("infinity") || eq("inf") || eq("+infinity") || eq("+inf")) return std::numeric_limits<double>::infinity();
  if (eq("-infinity") || eq("-inf")) return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

Status ParseValue(element v, double& out, const std::string& where) {
  switch (v.type()) {
    case element_type::DOUBLE: out = double(v); return Status::Ok();
    case element_type::INT64: out = static_cast<double>(int64_t(v)); return Status::Ok();
    case element_type::UINT64: out = static_cast<double>(uint64_t(v)); return Status::Ok();
    case element_type::STRING: {
      std::optional<double> nf = NonFinite(std::string_view(v));
      if (nf) {
        out = *nf;
        return Status::Ok();
      }
      break;
    }
    default: break;
  }
  return Status::InvalidArgument(where + ": value must be a number or \"NaN\", \"Infinity\", \"-Infinity\"");
}

Status ParseStep(element s, int64_t& out, const std::string& where) {
  switch (s.type()) {
    case element_type::INT64: out = int64_t(s); break;
    case element_type::UINT64: return Status::InvalidArgument(where + ": step is too large (max 2^53)");
    case element_type::DOUBLE: return Status::InvalidArgument(where + ": step must be an integer");
    default: return Status::InvalidArgument(where + ": step must be a non-negative integer");
  }
  if (out < 0) return Status::InvalidArgument(where + ": step must be a non-negative integer");
  return Status::Ok();
}

// The body with every integer literal of 20 or more digits written as a decimal
// ("100000000000000000000" -> "100000000000000000000.0"): simdjson 3.0 refuses integers
// beyond 64 bits, which are valid JSON (JavaScript's JSON.stringify(1e20) writes one) and
// are read as the double they denote, like any other number. Strings are left alone.
std::string WidenBigIntegers(std::string_view body) {
  std::string out;
  out.reserve(body.size() + 16);
  bool in_string = false;
  for (size_t i = 0; i < body.size();) {
    const char c = body[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < body.size()) out += body[++i];
      else if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      ++i;
      continue;
    }
    if (c >= '0' && c <= '9') {
      size_t j = i;
      while (j < body.size() && body[j] >= '0' && body[j] <= '9') ++j;
      out.append(body.substr(i, j - i));
      const bool decimal = j < body.size() && (body[j] == '.' || body[j] == 'e' || body[j] == 'E');
      if (!decimal && j - i >= 20) out += ".0";
      i = j;
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

}  // namespace

Status ParseMetricBatch(const std::string& body, const Limits& limits, MetricBatch& out) {
  if (body.size() > limits.max_body_bytes) {
    return Status::TooLarge("request body is larger than " + std::to_string(limits.max_body_bytes) + " bytes");
  }
  thread_local simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(body).get(root); err) {
    // A number simdjson cannot read may be an integer beyond 64 bits: read it as a double.
    // (The parser's document is only replaced when the second parse succeeds.)
    const std::string widened = err == simdjson::NUMBER_ERROR ? WidenBigIntegers(body) : std::string();
    if (widened.empty() || parser.parse(widened).get(root)) {
      return Status::BadRequest(std::string("request body is not valid JSON: ") + simdjson::error_message(err));
    }
  }
  if (root.type() != element_type::OBJECT) return Status::BadRequest("request body must be a JSON object");

  element seq;
  if (root["seq"].get(seq) == simdjson::SUCCESS && !seq.is_null()) {
    if (seq.type() != element_type::INT64 || int64_t(seq) < 0) {
      return Status::InvalidArgument("seq must be a non-negative integer");
    }
    out.from.seq = int64_t(seq);
  }
  std::string_view text;
  if (element client; root["client"].get(client) == simdjson::SUCCESS && !client.is_null()) {
    if (client.get(text) != simdjson::SUCCESS) return Status::InvalidArgument("client must be a string");
    LOUPE_RETURN_IF_ERROR(ValidateClientId(text));
    out.from.client = std::string(text);
  }
  if (element origin; root["step_origin"].get(origin) == simdjson::SUCCESS && !origin.is_null()) {
    if (origin.get(text) != simdjson::SUCCESS) return Status::InvalidArgument("step_origin must be a string");
    LOUPE_ASSIGN_OR_RETURN(out.from.origin, ParseStepOrigin(text));
  }
  if (element partial; root["partial"].get(partial) == simdjson::SUCCESS && !partial.is_null()) {
    if (partial.type() != element_type::BOOL) return Status::InvalidArgument("partial must be a boolean");
    out.partial = bool(partial);
  }
  simdjson::dom::array steps;
  if (root["steps"].get(steps) != simdjson::SUCCESS) {
    return Status::InvalidArgument("steps is required and must be an array");
  }
  size_t i = 0;
  for (element entry : steps) {
    std::string where = "steps[" + std::to_string(i) + "]";
    if (entry.type() != element_type::OBJECT) return Status::InvalidArgument(where + " must be an object");
    element step_el;
    if (entry["step"].get(step_el) != simdjson::SUCCESS) {
      return Status::InvalidArgument(where + ".step is required");
    }
    int64_t step = 0;
    LOUPE_RETURN_IF_ERROR(ParseStep(step_el, step, where + ".step"));
    int64_t ts = 0;
    element ts_el;
    if (entry["ts"].get(ts_el) == simdjson::SUCCESS && !ts_el.is_null()) {
      double secs = 0;
      if (!ParseValue(ts_el, secs, where).ok() || !std::isfinite(secs) || secs < 0 || secs > limits.max_unix_seconds) {
        return Status::InvalidArgument(where + ".ts must be Unix time in seconds");
      }
      ts = static_cast<int64_t>(secs * 1e6);
    }
    simdjson::dom::object values;
    if (entry["values"].get(values) != simdjson::SUCCESS) {
      return Status::InvalidArgument(where + ".values is required and must be an object");
    }
    for (auto field : values) {
      MetricPoint p;
      p.key = std::string(field.key);
      p.step = step;
      p.ts = ts;
      if (Status st = ParseValue(field.value, p.value, where + ".values[\"" + p.key.substr(0, 300) + "\"]");
          !st.ok()) {
        return st;
      }
      out.points.push_back(std::move(p));
      if (out.points.size() > limits.max_points_per_request) {
        return Status::TooLarge("a batch may carry at most " + std::to_string(limits.max_points_per_request) +
                                " points");
      }
    }
    ++i;
  }
  return Status::Ok();
}

}  // namespace loupe
