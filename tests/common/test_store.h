// A SqliteStore in a test's temporary folder, without fsync (a test process is not a
// power cut); `adjust` changes other options first (quotas, a fault-injecting VFS).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "store/store.h"

namespace loupe {

inline std::unique_ptr<Store> OpenTestStore(const std::string& dir,
                                            const std::function<void(StoreOptions&)>& adjust = {}) {
  StoreOptions o;
  o.data_dir = dir;
  o.sync_full = false;
  if (adjust) adjust(o);
  auto s = OpenSqliteStore(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

// A new experiment in project "p" under `run_id`; 0 (and a failed expectation) when refused.
inline int64_t NewTestRun(Store& store, const std::string& run_id = "") {
  NewExperiment e;
  e.project = "p";
  e.run_id = run_id;
  auto r = store.CreateOrResumeExperiment(e);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->experiment.id : 0;
}

}  // namespace loupe
