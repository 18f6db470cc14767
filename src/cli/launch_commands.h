// `loupe launch SPEC`: launches a training job from a spec file (YAML or JSON) on a Loupe
// server. A relative `workdir` is taken from the spec file's folder, and a spec without
// one runs in that folder. --check only checks the spec; --wait follows the job until it
// ends (exit 0 when it finished, 1 when it failed or was stopped, 2 when it could not be
// launched or followed).
#pragma once

#include <CLI/CLI.hpp>

namespace loupe::cli {

void AddLaunchCommands(CLI::App& app);
// The exit status of the command parsed, or -1 when it was not `launch`.
int RunLaunchCommand(CLI::App& app);

}  // namespace loupe::cli
