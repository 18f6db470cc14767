#include "store/work_status.h"

#include <nlohmann/json.hpp>

namespace loupe {

void to_json(nlohmann::json& j, WorkStatus s) { j = WorkStatusName(s); }

}  // namespace loupe
