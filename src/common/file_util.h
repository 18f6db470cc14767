// Reading whole files with a size cap, for user-provided and on-disk data files.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace loupe {

// The file's bytes; NotFound when it cannot be opened (messages never name the path,
// since they reach users), InvalidArgument for anything but a regular file (a FIFO, a
// device, a folder: never blocks), TooLarge above `max_bytes` (the message gives both
// sizes).
Result<std::string> ReadFileUpTo(const std::string& path, size_t max_bytes);
// ReadFileUpTo for a file in a folder a user's data lives in: a file that resolves,
// through symlinks, to somewhere outside `folder` is refused (InvalidArgument).
Result<std::string> ReadFileInFolder(const std::string& folder, const std::string& name, size_t max_bytes);

// Writes `bytes` to `path` through `path`.tmp: write, fsync, rename, fsync the folder,
// so an acknowledged file survives a crash and a reader never sees half of one. On
// failure the temporary file is removed and nothing at `path` changes; a full disk is
// NoSpace (507), other errors Unavailable. `what` names the file for the user. The file
// gets exactly `mode` (0600 for keys and tokens), whatever the umask.
Status WriteFileDurably(const std::string& path, std::string_view bytes, const std::string& what,
                        mode_t mode = 0644);

// Makes a file readable and writable by its owner only (a key, a token); best effort:
// false when the mode could not be changed.
bool MakeOwnerOnly(const std::string& path);

// Removes the `*.tmp` files a crash left in `folder` and its subfolders (WriteFileDurably
// and model writers name their temporary files so); returns how many. For start-up, before
// anything writes.
int RemoveTempFiles(const std::string& folder);

}  // namespace loupe
