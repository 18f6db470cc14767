// `loupe user ...`, `loupe token ...` and `loupe login-link`: managing access from the
// machine Loupe runs on, straight on its data folder (the server may be running: the
// database takes writes from both). What they change goes to the audit log as "cli".
#pragma once

#include <CLI/CLI.hpp>

namespace loupe::cli {

// Adds the subcommands to `app`; RunAccessCommand() runs the one parsed, if any, and
// returns its exit status (-1 when none of them was given).
void AddAccessCommands(CLI::App& app);
int RunAccessCommand(CLI::App& app);

}  // namespace loupe::cli
