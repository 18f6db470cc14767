// Store: everything Loupe keeps, as one object made of a small interface per domain.
//
// Each service takes only its domain's interface (TrackingService a TrackingStore,
// JobQueue a JobStore, ...), so a subsystem's tables, records and methods live in its
// own header and a new subsystem adds one header instead of growing a hub. SqliteStore
// (store/sqlite_store.h) is the embedded default; a PostgreSQL store implements the
// same interfaces, one domain at a time: see docs/architecture.md. All methods are
// thread-safe. Writes are durable when they return OK: they pass through one writer
// that group-commits whatever requests are waiting, so a caller blocks for about one
// commit. Reads never wait for writes (WAL snapshots).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "store/artifact_store.h"
#include "store/auth_store.h"
#include "store/batch_store.h"
#include "store/chat_store.h"
#include "store/comparison_store.h"
#include "store/dataset_store.h"
#include "store/explorer_store.h"
#include "store/feedback_store.h"
#include "store/job_store.h"
#include "store/llm_store.h"
#include "store/run_store.h"
#include "store/secret_store.h"
#include "store/suite_store.h"
#include "store/launch_store.h"
#include "store/tracking_store.h"

namespace loupe {

class Store : public virtual TrackingStore,
              public virtual DatasetStore,
              public virtual JobStore,
              public virtual RunStore,
              public virtual ExplorerStore,
              public virtual AuthStore,
              public virtual SecretStore,
              public virtual ArtifactStore,
              public virtual LlmStore,
              public virtual ChatStore,
              public virtual FeedbackStore,
              public virtual ComparisonStore,
              public virtual BatchStore,
              public virtual SuiteStore,
              public virtual LaunchStore {
 public:
  ~Store() override = default;
  // Blocks until every accepted write is committed, then stops the writer.
  virtual void Close() = 0;
};

// Capacity limits the store enforces inside the transaction a write would pass them in:
// the write is refused with TooLarge (413, a limit, as the other limits are), naming the
// quota and the `loupe serve` flag that raises it; the SDK reports it and goes on with
// the rest of the run. A partial metrics batch loses only the new keys past the key
// quota. 0: no limit.
struct StoreQuotas {
  int64_t max_experiments = 1000000;
  int64_t max_keys_per_experiment = 100000;
  int64_t max_console_bytes_per_experiment = int64_t{1} << 30;  // 1 GiB of console text
  int64_t max_media_bytes_per_experiment = int64_t{10} << 30;   // 10 GiB of images and audio
  int64_t max_queued_jobs = 10000;                              // jobs waiting for a worker
  int64_t max_datasets = 10000;
};

struct StoreOptions {
  std::string data_dir = "./data";  // the database lives at <data_dir>/loupe.db
  // FULL fsyncs the WAL on every group commit (survives power loss); NORMAL survives
  // a process crash (kill -9) but not a power cut. Default FULL.
  bool sync_full = true;
  // A group commit closes after this many points even if more are waiting.
  size_t max_points_per_commit = 500000;
  // The SQLite VFS to open the database with; empty: SQLite's default. Tests name one
  // that injects disk-full, I/O and fsync faults.
  std::string vfs;
  // A passive checkpoint (off the writer thread) starts once the WAL holds this much;
  // past `wal_limit_bytes` a restart checkpoint waits for readers so the WAL cannot
  // grow without bound, and the WAL file is truncated back to that size.
  int64_t wal_checkpoint_bytes = int64_t{16} << 20;
  int64_t wal_limit_bytes = int64_t{64} << 20;
  StoreQuotas quotas;
};

Result<std::unique_ptr<Store>> OpenSqliteStore(const StoreOptions& options);

}  // namespace loupe
