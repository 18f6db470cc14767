// Plotly figures ({data, layout}) and tables computed from dataset columns.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "datasets/table.h"

namespace loupe::explorers {

using datasets::Column;

nlohmann::json ScatterFigure(const Column& x, const Column& y, const Column* color, int64_t max_points);
nlohmann::json HistogramFigure(const Column& x, int64_t bins, const Column* split);
nlohmann::json BoxFigure(const std::vector<const Column*>& columns, const Column* group_by);
nlohmann::json BarCountFigure(const Column& column, int64_t top);
nlohmann::json CorrelationFigure(const std::vector<const Column*>& columns);
// {columns: [statistic names], rows: [[column, values...]]}
nlohmann::json DescribeTable(const std::vector<const Column*>& columns);
nlohmann::json WordFrequencyFigure(const Column& column, int64_t top, int64_t min_length, bool stopwords);

}  // namespace loupe::explorers
