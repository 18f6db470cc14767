#include "launch/local_process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace loupe::launch {

namespace {

constexpr int kShimIgnored[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2};

void SafeWrite(int fd, const char* s) { (void)!write(fd, s, strlen(s)); }

// Digits of v into buf (async-signal-safe); returns the end.
char* PutInt(char* p, long v) {
  char tmp[24];
  int n = 0;
  bool neg = v < 0;
  unsigned long u = neg ? 0UL - static_cast<unsigned long>(v) : static_cast<unsigned long>(v);
  do {
    tmp[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  if (neg) *p++ = '-';
  while (n) *p++ = tmp[--n];
  return p;
}

void CloseFrom(int first, int keep) {
  if (keep >= first) {
    if (keep > first) syscall(SYS_close_range, first, keep - 1, 0);
    syscall(SYS_close_range, keep + 1, ~0U, 0);
  } else {
    syscall(SYS_close_range, first, ~0U, 0);
  }
}

[[noreturn]] void RunShim(const SpawnRequest& req, char* const* argv, char* const* envp, int out_fd, int err_fd,
                          int null_fd, int report_fd, const char* exit_tmp) {
  const long grace_ms = static_cast<long>(req.grace_seconds * 1000);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  setsid();
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  for (int s : kShimIgnored) sigaction(s, &ignore, nullptr);
  dup2(null_fd, 0);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  CloseFrom(3, report_fd);  // Loupe's sockets and database files stay Loupe's
  const pid_t child = fork();
  if (child < 0) {
    pid_t failed = -1;
    (void)!write(report_fd, &failed, sizeof failed);
    _exit(1);
  }
  if (child == 0) {
    setpgid(0, 0);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int s : kShimIgnored) sigaction(s, &dfl, nullptr);
    close(report_fd);
    if (chdir(req.workdir.c_str()) != 0) {
      SafeWrite(2, "loupe: cannot enter the working directory\n");
      _exit(127);
    }
    execve("/bin/bash", argv, envp);
    SafeWrite(2, "loupe: cannot run /bin/bash\n");
    _exit(127);
  }
  setpgid(child, child);  // before Loupe signals the group (the child may not have run yet)
  (void)!write(report_fd, &child, sizeof child);
  close(report_fd);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  // The command has ended: what it left running in its process group (a background
  // process, or the interpreter under a shell that a stop's SIGTERM ended first) is given
  // the grace period to finish (an SDK writing its last metrics), then killed, as at the end of a Slurm job. The shim is their subreaper: orphans of the job
  // come to it to be reaped. A process that left the group (setsid) is not waited for.
  const struct timespec tick = {0, 20 * 1000 * 1000};
  // Ended by a signal, the group got it too (a stop signals the group): a second SIGTERM
  // would cut short what its handler is doing (an SDK sending its last metrics).
  if (!WIFSIGNALED(status)) kill(-child, SIGTERM);
  for (long waited = 0; kill(-child, 0) == 0 && waited < grace_ms; waited += 20) {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    if (kill(-child, 0) != 0) break;
    nanosleep(&tick, nullptr);
  }
  kill(-child, SIGKILL);
  for (int round = 0; round < 10; ++round) {
    pid_t r;
    while ((r = waitpid(-1, nullptr, WNOHANG)) > 0) {
    }
    if (r < 0 && errno != EINTR) break;  // no children left
    nanosleep(&tick, nullptr);
  }
  char buf[48];
  char* p = buf;
  if (WIFSIGNALED(status)) {
    memcpy(p, "signal ", 7);
    p = PutInt(p + 7, WTERMSIG(status));
  } else {
    memcpy(p, "exit ", 5);
    p = PutInt(p + 5, WEXITSTATUS(status));
  }
  *p++ = '\n';
  const int fd = open(exit_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    (void)!write(fd, buf, static_cast<size_t>(p - buf));
    fsync(fd);
    close(fd);
    rename(exit_tmp, req.exit_path.c_str());
  }
  _exit(0);
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

Result<Spawned> SpawnJob(const SpawnRequest& req) {
  // bash -c runs a single command in its own place; dash (/bin/sh) would stay its parent and
  // die of the SIGTERM meant for the command, hiding a clean exit the command made on it.
  std::vector<std::string> args = {"bash", "-c", req.command};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = req.env;
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string exit_tmp = req.exit_path + ".tmp";

  const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
  const int out_fd = open(req.stdout_path.c_str(), flags, 0644);
  if (out_fd < 0) return Status::Internal(Errno("cannot open " + req.stdout_path));
  const int err_fd = open(req.stderr_path.c_str(), flags, 0644);
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2] = {-1, -1};
  auto close_all = [&] {
    for (int fd : {out_fd, err_fd, null_fd, report[0], report[1]}) {
      if (fd >= 0) close(fd);
    }
  };
  if (err_fd < 0 || null_fd < 0 || pipe2(report, O_CLOEXEC) != 0) {
    Status s = Status::Internal(Errno("cannot prepare the job's files"));
    close_all();
    return s;
  }
  const pid_t shim = fork();
  if (shim < 0) {
    Status s = Status::Internal(Errno("cannot start the job"));
    close_all();
    return s;
  }
  if (shim == 0) RunShim(req, argv.data(), envp.data(), out_fd, err_fd, null_fd, report[1], exit_tmp.c_str());
  close(report[1]);
  report[1] = -1;
  pid_t child = 0;
  ssize_t n;
  while ((n = read(report[0], &child, sizeof child)) < 0 && errno == EINTR) {
  }
  close_all();
  if (n != static_cast<ssize_t>(sizeof child) || child <= 0) {
    while (waitpid(shim, nullptr, 0) < 0 && errno == EINTR) {
    }
    return Status::Internal("the job's supervisor process could not start the command");
  }
  Spawned out;
  out.shim = shim;
  out.pid = child;
  out.start_ticks = ProcessStartTicks(child).value_or(0);
  return out;
}

std::optional<int64_t> ProcessStartTicks(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces or ')': read after the last ')'.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  char state = 0;
  rest >> state;  // field 3
  if (state == 'Z' || state == 'X') return std::nullopt;
  for (int i = 4; i <= 22; ++i) {
    if (!(rest >> field)) return std::nullopt;
  }
  try {
    return std::stoll(field);
  } catch (...) {
    return std::nullopt;
  }
}

bool SameProcessAlive(pid_t pid, int64_t start_ticks) {
  // Without its start time a pid proves nothing: another process may have it by now.
  if (pid <= 0 || start_ticks == 0) return false;
  std::optional<int64_t> t = ProcessStartTicks(pid);
  return t && *t == start_ticks;
}

Status SignalGroup(pid_t pgid, int sig) {
  if (pgid <= 1) return Status::InvalidArgument("no process group to signal");
  if (kill(-pgid, sig) != 0 && errno != ESRCH) return Status::Internal(Errno("cannot signal the job"));
  return Status::Ok();
}

bool ReapChild(pid_t pid) {
  if (pid <= 0) return true;
  int status = 0;
  const pid_t r = waitpid(pid, &status, WNOHANG);
  return r == pid || (r < 0 && errno == ECHILD);
}

std::string ExitStatus::Text() const {
  if (signal == 0) return "exit code " + std::to_string(code);
  const char* name = sigabbrev_np(signal);
  return std::string("killed by ") + (name ? std::string("SIG") + name : "signal " + std::to_string(signal));
}

std::optional<ExitStatus> ReadExitFile(const std::string& path) {
  std::ifstream f(path);
  std::string kind;
  long value = 0;
  if (!(f >> kind >> value)) return std::nullopt;
  ExitStatus s;
  if (kind == "exit") {
    s.code = static_cast<int>(value);
  } else if (kind == "signal") {
    s.signal = static_cast<int>(value);
  } else {
    return std::nullopt;
  }
  return s;
}

}  // namespace loupe::launch
