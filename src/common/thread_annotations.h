// Clang thread-safety annotations (as LevelDB and Abseil use them) and a Mutex that
// carries them. Under clang with -Wthread-safety the build checks that every
// GUARDED_BY member is touched only with its mutex held; other compilers ignore them.
#pragma once

#include <mutex>

#if defined(__clang__)
#define LOUPE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LOUPE_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) LOUPE_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY LOUPE_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) LOUPE_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) LOUPE_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) LOUPE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) LOUPE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) LOUPE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define EXCLUDES(...) LOUPE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS LOUPE_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace loupe {

// std::mutex with annotations. BasicLockable, so std::condition_variable_any can wait
// on it directly: `cv.wait(mu)` while a MutexLock holds it.
class CAPABILITY("mutex") Mutex {
 public:
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

}  // namespace loupe
