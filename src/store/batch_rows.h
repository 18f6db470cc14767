// How a batch run is read from SQL, shared by the batch and suite stores.
#pragma once

#include "store/batch_store.h"
#include "store/sql.h"

namespace loupe {

// The columns BatchRunFrom() reads, over batch_runs aliased `r`.
const char* BatchRunColumns();
BatchRun BatchRunFrom(const sql::Rows& q);

}  // namespace loupe
