// Clock: where Loupe's services read the time, so tests can move it by hand instead of
// sleeping (as LevelDB's Env supplies NowMicros).
#pragma once

#include <atomic>
#include <cstdint>

namespace loupe {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch.
  virtual int64_t NowMicros() = 0;
};

// The wall clock; lives for the whole process.
Clock& SystemClock();

// A clock that moves only when told; for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_micros) : now_(start_micros) {}
  int64_t NowMicros() override { return now_.load(); }
  void Advance(int64_t micros) { now_ += micros; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace loupe
