#include "common/disk_guard.h"

#include <sys/statvfs.h>

#include <chrono>
#include <cstdio>

namespace loupe {

DiskGuard::DiskGuard(std::string dir, uint64_t min_free_bytes)
    : dir_(std::move(dir)), min_free_bytes_(min_free_bytes) {}

uint64_t DiskGuard::FreeBytes() {
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  if (now - checked_at_micros_.load(std::memory_order_relaxed) >= 1'000'000) {
    struct statvfs fs {};
    uint64_t free = UINT64_MAX;  // unknown: never refuse on a failed probe
    if (statvfs(dir_.c_str(), &fs) == 0) free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    free_bytes_.store(free, std::memory_order_relaxed);
    checked_at_micros_.store(now, std::memory_order_relaxed);
  }
  return free_bytes_.load(std::memory_order_relaxed);
}

Status DiskGuard::CheckRoomForNewData() {
  if (min_free_bytes_ == 0) return Status::Ok();
  const uint64_t free = FreeBytes();
  if (free >= min_free_bytes_) return Status::Ok();
  auto mib = [](uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f", static_cast<double>(bytes) / (1 << 20));
    return std::string(buf);
  };
  return Status::NoSpace("the disk holding the data folder has " + mib(free) + " MiB free, below the " +
                         mib(min_free_bytes_) + " MiB Loupe keeps in reserve; new data is refused until space "
                         "is freed (reads and deletes still work)");
}

}  // namespace loupe
