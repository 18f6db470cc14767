// Starts tests/llm/standin_provider.py (a stand-in model provider, see its docstring) on
// a free port for a test suite, and stops it.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace loupe::llm {

class Standin {
 public:
  Standin() {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      const std::string script = std::string(LOUPE_SOURCE_DIR) + "/tests/llm/standin_provider.py";
      execl("/usr/bin/python3", "python3", script.c_str(), "--port", "0", "--key", "sk-test", nullptr);
      _exit(127);
    }
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[64] = {};
    if (out && fgets(line, sizeof(line), out)) std::sscanf(line, "PORT %d", &port_);
    if (out) fclose(out);
  }
  ~Standin() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }
  std::string url(const std::string& path = "") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace loupe::llm
