// DiskGuard: refuses new data while the disk holding the data folder has less than a
// configured amount free, so the database and its WAL never meet a full disk in the
// middle of a write, and so reads, deletes, stops and finishes (which free space or
// write a few bytes) keep working. Free space is read with statvfs at most once a
// second. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace loupe {

class DiskGuard {
 public:
  // min_free_bytes 0 turns the guard off.
  DiskGuard(std::string dir, uint64_t min_free_bytes);
  // OK, or NoSpace (507) naming the free space and the threshold.
  Status CheckRoomForNewData();
  // Free bytes on the guarded file system as last read (UINT64_MAX when unknown).
  uint64_t FreeBytes();

 private:
  std::string dir_;
  uint64_t min_free_bytes_;
  std::atomic<int64_t> checked_at_micros_{0};
  std::atomic<uint64_t> free_bytes_{UINT64_MAX};
};

}  // namespace loupe
