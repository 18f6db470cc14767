// Parameter schemas: every model (and optimizer) declares its parameters with type,
// default, range, choices and a description. The component API serves the schema, the
// UI renders it as a form, and ValidateAndTransform checks what a user sent against it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace loupe::training {

enum class ParamType { kInteger, kNumber, kString, kBoolean };

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kNumber;
  nlohmann::json default_value;
  std::optional<double> min, max;    // inclusive
  std::vector<std::string> choices;  // strings only
  std::string description;
  bool tunable = false;    // a hyperparameter search may vary it
  bool log_scale = false;  // searched on a log scale (learning rates, C)
  // The range a search covers when the user gives no bounds: the one practitioners
  // tune over (docs/models.md says where each comes from), much narrower than what
  // the library accepts (5,000 trees of depth 30 took 30-78 s a trial on 178 rows).
  std::optional<double> search_min, search_max;
};

// `spec` searched over [lo, hi] by default (on a log scale when `log`).
ParamSpec SearchedOver(ParamSpec spec, double lo, double hi, bool log);

// Schema entries, as the catalogs declare them. `tunable` lets a search vary the
// parameter; `log_scale` searches it on a log scale.
ParamSpec IntParam(std::string name, int64_t def, double lo, double hi, std::string description, bool tunable = false);
ParamSpec NumberParam(std::string name, double def, double lo, double hi, std::string description, bool tunable = false,
                      bool log_scale = false);
ParamSpec ChoiceParam(std::string name, std::string def, std::vector<std::string> choices, std::string description);
ParamSpec BoolParam(std::string name, bool def, std::string description);
ParamSpec TextParam(std::string name, std::string description);  // default ""

// The schema as the component API serves it: JSON-Schema-like properties, with
// DashAI's optimize form ({optimize, fixed_value, lower_bound, upper_bound}) noted on
// tunable parameters.
nlohmann::json SchemaJson(const std::vector<ParamSpec>& specs);

// One parameter the search varies, in the units the model takes.
struct SearchDimension {
  std::string name;
  double lower = 0, upper = 0;
  bool integer = false;
  bool log_scale = false;
};

struct ValidatedParams {
  nlohmann::json values = nlohmann::json::object();  // every parameter, defaults filled in
  std::vector<SearchDimension> search_space;          // parameters sent as {optimize: true}
};

// Checks `input` (an object; missing parameters take their default) against `specs`.
// A tunable parameter may be given as {"optimize": true, "lower_bound", "upper_bound"}
// (bounds default to the schema's range) or {"optimize": false, "fixed_value"}.
// Errors name the parameter, the rule and the value, e.g.
// "max_depth must be an integer from 1 to 30 (got 0.5)".
Result<ValidatedParams> ValidateAndTransform(const std::vector<ParamSpec>& specs, const nlohmann::json& input);

// Checks one value against its spec, converting integral numbers for integer params.
Result<nlohmann::json> ValidateValue(const ParamSpec& spec, const nlohmann::json& value);

}  // namespace loupe::training
