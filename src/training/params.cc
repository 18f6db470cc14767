#include "training/params.h"

#include <cmath>
#include <set>

namespace loupe::training {

namespace {

using nlohmann::json;

const char* TypeName(ParamType t) {
  switch (t) {
    case ParamType::kInteger: return "integer";
    case ParamType::kNumber: return "number";
    case ParamType::kString: return "string";
    case ParamType::kBoolean: return "boolean";
  }
  return "?";
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string RangeText(const ParamSpec& s) {
  if (s.min && s.max) return " from " + Num(*s.min) + " to " + Num(*s.max);
  if (s.min) return " >= " + Num(*s.min);
  if (s.max) return " <= " + Num(*s.max);
  return "";
}

std::string Got(const json& v) {
  std::string d = v.dump();
  if (d.size() > 60) d = d.substr(0, 57) + "...";
  return " (got " + d + ")";
}

Result<double> Bound(const ParamSpec& s, const json& v, const char* which) {
  Result<json> checked = ValidateValue(s, v);
  if (!checked.ok()) return Status::InvalidArgument(std::string(which) + " of " + checked.status().message());
  return checked->get<double>();
}

}  // namespace

ParamSpec IntParam(std::string name, int64_t def, double lo, double hi, std::string description, bool tunable) {
  return {std::move(name), ParamType::kInteger, def, lo, hi, {}, std::move(description), tunable, false};
}

ParamSpec NumberParam(std::string name, double def, double lo, double hi, std::string description, bool tunable,
                      bool log_scale) {
  return {std::move(name), ParamType::kNumber, def, lo, hi, {}, std::move(description), tunable, log_scale};
}

ParamSpec SearchedOver(ParamSpec spec, double lo, double hi, bool log) {
  spec.search_min = lo;
  spec.search_max = hi;
  spec.log_scale = log;
  return spec;
}

ParamSpec ChoiceParam(std::string name, std::string def, std::vector<std::string> choices, std::string description) {
  return {std::move(name), ParamType::kString, def, std::nullopt, std::nullopt, std::move(choices), std::move(description)};
}

ParamSpec BoolParam(std::string name, bool def, std::string description) {
  return {std::move(name), ParamType::kBoolean, def, std::nullopt, std::nullopt, {}, std::move(description)};
}

ParamSpec TextParam(std::string name, std::string description) {
  return {std::move(name), ParamType::kString, "", std::nullopt, std::nullopt, {}, std::move(description)};
}

json SchemaJson(const std::vector<ParamSpec>& specs) {
  json props = json::object();
  json order = json::array();
  for (const ParamSpec& s : specs) {
    json p = {{"type", TypeName(s.type)}, {"default", s.default_value}, {"description", s.description}};
    if (s.min) p["minimum"] = *s.min;
    if (s.max) p["maximum"] = *s.max;
    if (!s.choices.empty()) p["enum"] = s.choices;
    if (s.tunable) {
      p["tunable"] = true;
      p["log_scale"] = s.log_scale;
      const std::optional<double> lo = s.search_min ? s.search_min : s.min, hi = s.search_max ? s.search_max : s.max;
      if (lo && hi) p["search_range"] = {*lo, *hi};
    }
    props[s.name] = p;
    order.push_back(s.name);
  }
  return {{"type", "object"}, {"properties", props}, {"order", order}};
}

Result<json> ValidateValue(const ParamSpec& s, const json& v) {
  auto fail = [&](const std::string& rule) { return Status::InvalidArgument(s.name + " must be " + rule + Got(v)); };
  switch (s.type) {
    case ParamType::kBoolean:
      if (!v.is_boolean()) return fail("true or false");
      return v;
    case ParamType::kString: {
      if (!v.is_string()) return fail("a string");
      if (!s.choices.empty()) {
        for (const std::string& c : s.choices) {
          if (c == v.get<std::string>()) return v;
        }
        std::string list;
        for (const std::string& c : s.choices) list += (list.empty() ? "" : ", ") + c;
        return fail("one of " + list);
      }
      return v;
    }
    case ParamType::kInteger:
    case ParamType::kNumber: {
      bool integer = s.type == ParamType::kInteger;
      std::string rule = integer ? "an integer" + RangeText(s) : "a number" + RangeText(s);
      if (!v.is_number()) return fail(rule);
      double d = v.get<double>();
      if (!std::isfinite(d)) return fail(rule);
      if (integer && d != std::floor(d)) return fail(rule);
      if ((s.min && d < *s.min) || (s.max && d > *s.max)) return fail(rule);
      return integer ? json(static_cast<int64_t>(d)) : json(d);
    }
  }
  return Status::Internal("unknown parameter type");
}

Result<ValidatedParams> ValidateAndTransform(const std::vector<ParamSpec>& specs, const json& input) {
  if (!input.is_null() && !input.is_object()) return Status::InvalidArgument("parameters must be an object");
  ValidatedParams out;
  std::set<std::string> known;
  for (const ParamSpec& s : specs) known.insert(s.name);
  if (input.is_object()) {
    for (const auto& [name, v] : input.items()) {
      if (known.count(name)) continue;
      std::string list;
      for (const ParamSpec& s : specs) list += (list.empty() ? "" : ", ") + s.name;
      return Status::InvalidArgument("unknown parameter \"" + name + "\" (known: " + list + ")");
    }
  }
  for (const ParamSpec& s : specs) {
    json v = s.default_value;
    if (input.is_object() && input.contains(s.name)) v = input[s.name];
    if (v.is_object()) {
      // DashAI's tunable form.
      if (!s.tunable) return Status::InvalidArgument(s.name + " cannot be optimized; give a plain value");
      if (v.contains("optimize") && !v["optimize"].is_boolean()) {
        return Status::InvalidArgument(s.name + ".optimize must be true or false");
      }
      bool optimize = v.value("optimize", false);
      if (!optimize) {
        if (!v.contains("fixed_value")) return Status::InvalidArgument(s.name + ": fixed_value is required when optimize is false");
        v = v["fixed_value"];
      } else {
        if (s.type != ParamType::kInteger && s.type != ParamType::kNumber) {
          return Status::InvalidArgument(s.name + " is not numeric and cannot be optimized");
        }
        const std::optional<double> lo_default = s.search_min ? s.search_min : s.min;
        const std::optional<double> hi_default = s.search_max ? s.search_max : s.max;
        if (!v.contains("lower_bound") && !lo_default) return Status::InvalidArgument(s.name + ": lower_bound is required");
        if (!v.contains("upper_bound") && !hi_default) return Status::InvalidArgument(s.name + ": upper_bound is required");
        LOUPE_ASSIGN_OR_RETURN(double lo, Bound(s, v.contains("lower_bound") ? v["lower_bound"] : json(*lo_default), "lower_bound"));
        LOUPE_ASSIGN_OR_RETURN(double hi, Bound(s, v.contains("upper_bound") ? v["upper_bound"] : json(*hi_default), "upper_bound"));
        if (lo >= hi) {
          return Status::InvalidArgument(s.name + ": lower_bound (" + Num(lo) + ") must be below upper_bound (" + Num(hi) + ")");
        }
        bool log = s.log_scale && lo > 0;
        out.search_space.push_back({s.name, lo, hi, s.type == ParamType::kInteger, log});
        out.values[s.name] = s.default_value;
        continue;
      }
    }
    LOUPE_ASSIGN_OR_RETURN(json checked, ValidateValue(s, v));
    out.values[s.name] = checked;
  }
  return out;
}

}  // namespace loupe::training
