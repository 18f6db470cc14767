// The runtime file that lets clients on this machine find a running server's local
// token without being told, as Jupyter's runtime files do: <runtime-dir>/server-<port>.json
// holds {url, pid, data_dir, token_file}; the folder is 0700 and the file 0600, and the
// token itself stays in <data-dir>/local.token. The runtime folder is $LOUPE_RUNTIME_DIR,
// else $XDG_RUNTIME_DIR/loupe, else ~/.local/share/loupe/runtime (none without HOME); it
// must be the user's own (not a link, mode 0700), and readers check files are theirs.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace loupe::auth {

std::string RuntimeDir();
std::string RuntimeFilePath(uint16_t port);
[[nodiscard]] Status WriteRuntimeFile(uint16_t port, const std::string& url, const std::string& data_dir,
                                      const std::string& token_file);
void RemoveRuntimeFile(uint16_t port);

}  // namespace loupe::auth
