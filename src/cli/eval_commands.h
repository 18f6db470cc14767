// `loupe eval run`: runs a regression suite against a model on a Loupe server, for CI
// pipelines. It waits for the run, prints the verdict with the cases that newly fail and
// newly pass against the previous version, and exits 0 when the score reaches the bar,
// 1 on a regression (score under --fail-under, or with --fail-on-new-failures any case
// that newly fails), and 2 when it could not tell (server unreachable, refused, timed out,
// or no case answered by the model at all).
// The credential is LOUPE_API_KEY, else, for a server on this machine, its local token
// (found through its runtime file, as the Python SDK does).
#pragma once

#include <CLI/CLI.hpp>

namespace loupe::cli {

void AddEvalCommands(CLI::App& app);
// The exit status of the command parsed, or -1 when it was not `eval`.
int RunEvalCommand(CLI::App& app);

}  // namespace loupe::cli
