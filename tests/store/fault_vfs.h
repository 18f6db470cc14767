// A test-only SQLite VFS that forwards to the default one and injects faults on the
// database and WAL files: a full disk or an I/O error on write, or a failed fsync.
// Open a store with StoreOptions::vfs = RegisterFaultVfs() and arm faults from the test.
#pragma once

namespace loupe::testing {

enum class Fault {
  kNone,
  kDiskFull,    // xWrite returns SQLITE_FULL
  kWriteError,  // xWrite returns SQLITE_IOERR_WRITE
  kSyncError,   // xSync returns SQLITE_IOERR_FSYNC
};

// Registers the VFS (once) and returns its name.
const char* RegisterFaultVfs();
// From the (skip + 1)-th matching call on, every matching call fails until ClearFault().
void InjectFault(Fault fault, int skip = 0);
void ClearFault();
// How many calls have failed since the last InjectFault().
int FaultsHit();

}  // namespace loupe::testing
