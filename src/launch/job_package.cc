#include "launch/job_package.h"

#include "common/display_text.h"
#include "common/embedded_files.h"
#include "launch/storage_mounts.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace loupe::launch {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;


// A command's standard output, at most `max` bytes; "" when it fails.
std::string Output(const std::string& command, size_t max = 1 << 20) {
  FILE* p = popen(("timeout 10 " + command + " 2>/dev/null").c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
    if (out.size() < max) out.append(buf, std::min(n, max - out.size()));
  }
  return pclose(p) == 0 ? out : "";
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string OsName() {
  std::ifstream f("/etc/os-release");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "";
}

// The interpreter a "python..." command runs; python3 otherwise.
std::string PythonOf(const std::string& command) {
  std::istringstream words(command);
  std::string first;
  words >> first;
  const std::string program = first.substr(first.rfind('/') == std::string::npos ? 0 : first.rfind('/') + 1);
  if (program.rfind("python", 0) == 0 && first.find_first_of("'\"$`;|&") == std::string::npos) return first;
  return "python3";
}

}  // namespace

json CaptureEnvironment(const std::string& workdir, const std::string& command) {
  json env = json::object();
  struct utsname u {};
  if (uname(&u) == 0) env["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
  if (std::string os = OsName(); !os.empty()) env["os"] = os;
  const std::string python = PythonOf(command);
  const std::string py = Output(
      ShellQuote(python) + " -c " +
      ShellQuote("import sys, json, importlib.metadata as m; print(json.dumps({'executable': sys.executable, "
                 "'version': sys.version.split()[0], 'packages': sorted({'%s==%s' % (d.metadata['Name'], d.version) "
                 "for d in m.distributions() if d.metadata['Name']})}))"));
  if (json p = json::parse(py, nullptr, false); p.is_object()) env["python"] = p;
  if (std::string driver = Trim(Output("nvidia-smi --query-gpu=driver_version,name --format=csv,noheader"));
      !driver.empty()) {
    env["nvidia"] = driver;
  }
  const std::string git = "git -C " + ShellQuote(workdir) + " ";
  if (std::string commit = Trim(Output(git + "rev-parse HEAD")); !commit.empty()) {
    json g = {{"commit", commit}};
    if (std::string branch = Trim(Output(git + "rev-parse --abbrev-ref HEAD")); !branch.empty()) g["branch"] = branch;
    g["diff"] = Output(git + "diff HEAD");
    if (std::string remote = Trim(Output(git + "remote get-url origin")); !remote.empty()) g["remote"] = remote;
    env["git"] = g;
  }
  return env;
}

std::string RunScript(const LaunchJob& job, const JobSpec& spec) {
  std::string s =
      "#!/bin/sh\n"
      "# Runs Loupe job " + std::to_string(job.id) + " (" + job.name +
      ") again, outside Loupe: the same command in the same\n"
      "# files, with the same config and environment variables. The Loupe SDK in the script\n"
      "# logs to $LOUPE_URL (default http://127.0.0.1:8080); LOUPE_MODE=offline keeps it local.\n"
      "set -e\n"
      "cd \"$(dirname \"$0\")/workdir\"\n";
  if (const std::string config = spec.config.dump(); config.size() <= 64 * 1024) {
    s += "export LOUPE_CONFIG=" + ShellQuote(config) + "\n";
  } else {  // too large for one environment variable
    s += "export LOUPE_CONFIG_FILE=\"$(cd .. && pwd)/config.json\"\n";
  }
  s += "export LOUPE_PROJECT=" + ShellQuote(spec.project) + "\n";
  for (const auto& [k, v] : spec.env) s += "export " + k + "=" + ShellQuote(v) + "\n";
  // The SDK of the Loupe that made the package, for a Python where it is not importable: after
  // the spec's variables, whose PYTHONPATH may name a folder of the machine it ran on.
  s += "python3 -c 'import loupe' 2>/dev/null || export PYTHONPATH=\"$(cd ../sdk && pwd)${PYTHONPATH:+:$PYTHONPATH}\"\n";
  for (const auto& [k, name] : spec.env_secrets) {
    s += "# " + k + " held the Loupe secret '" + name + "' (not in this package): export it before running\n";
  }
  if (spec.mounts.empty()) {
    s += "exec /bin/bash -c " + ShellQuote(spec.command) + "\n";  // as Loupe ran it
    return s;
  }
  for (size_t n = 0; n < spec.mounts.size(); ++n) {
    if (spec.mounts[n].secret.empty()) continue;
    s += "# mounts[" + std::to_string(n) + "] (" + spec.mounts[n].source + ") used the Loupe secret '" +
         spec.mounts[n].secret + "': export " + MountKeyVariable(n) + " and " + MountSecretVariable(n) + "\n";
  }
  s += "exec /bin/bash ../storage.sh  # copies the S3 folders in, runs the command, writes results back\n";
  return s;
}

Status WriteJobPackage(const LaunchJob& job, const JobSpec& spec, const std::string& path) {
  const std::string top = "job-" + std::to_string(job.id);
  const std::string tmp = path + ".tmp";
  std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(), archive_write_free);
  auto fail = [&](const std::string& what) {
    std::string msg = what + ": " + (archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown error");
    a.reset();
    std::remove(tmp.c_str());
    return Status::Unavailable("cannot build the package: " + msg);
  };
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK) return fail("tar format");
  if (archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK) return fail("gzip");
  if (archive_write_open_filename(a.get(), tmp.c_str()) != ARCHIVE_OK) return fail("open");
  const time_t now = time(nullptr);
  auto add_text = [&](const std::string& name, const std::string& text, int perm) -> Status {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname_utf8(e.get(), (top + "/" + name).c_str());
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(text.size()));
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), perm);
    archive_entry_set_mtime(e.get(), now, 0);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) return fail(name);
    if (archive_write_data(a.get(), text.data(), text.size()) != static_cast<la_ssize_t>(text.size())) return fail(name);
    return Status::Ok();
  };
  std::ifstream envf(job.dir + "/environment.json");
  std::stringstream env_text;
  env_text << envf.rdbuf();
  std::string readme =
      "# Loupe job " + std::to_string(job.id) + ": " + job.name + "\n\n"
      "Run it again elsewhere with `sh run.sh` (it changes into workdir/ first).\n\n"
      "- spec.json: the job as it was launched (command, resources, budget, ...)\n"
      "- config.json: the config the script was given ($LOUPE_CONFIG; `run.config` in the SDK)\n"
      "- environment.json: where it ran: OS, Python and its packages, NVIDIA driver, git commit and diff\n"
      "- workdir/: the working directory as Loupe copied it at launch (without its S3 folders)\n"
      "- storage.sh: present when the job has storage mounts; run.sh runs the command through it\n"
      "- sdk/loupe/: the Loupe Python SDK (run.sh uses it when `import loupe` fails)\n\n"
      "To recreate the Python environment, install the versions environment.json lists\n"
      "(python.packages). A git checkout of git.commit with git.diff applied is the same code.\n";
  LOUPE_RETURN_IF_ERROR(add_text("README.md", readme, 0644));
  LOUPE_RETURN_IF_ERROR(add_text("run.sh", RunScript(job, spec), 0755));
  if (!spec.mounts.empty()) LOUPE_RETURN_IF_ERROR(add_text("storage.sh", StorageScript(spec, job.id), 0755));
  LOUPE_RETURN_IF_ERROR(add_text("spec.json", SpecToJson(spec).dump(2) + "\n", 0644));
  LOUPE_RETURN_IF_ERROR(add_text("config.json", spec.config.dump(2) + "\n", 0644));
  LOUPE_RETURN_IF_ERROR(add_text("environment.json", env_text.str().empty() ? "{}\n" : env_text.str(), 0644));
  for (size_t i = 0; i < kSdkFileCount; ++i) {
    LOUPE_RETURN_IF_ERROR(add_text(std::string("sdk/loupe/") + kSdkFiles[i].name, std::string(kSdkFiles[i].bytes), 0644));
  }
  // The files the launch copied, as they are in the copy (a job may have changed them).
  std::ifstream listf(job.dir + "/snapshot.json");
  const json listed = json::parse(listf, nullptr, false);
  if (!listed.is_array()) return fail("the job's list of copied files is missing");
  const fs::path root = fs::path(job.dir) / "workdir";
  for (const json& item : listed) {
    if (!item.is_string()) continue;
    const std::string rel = item.get<std::string>();
    const fs::path p = root / rel;
    struct stat st {};
    if (lstat(p.c_str(), &st) != 0) continue;  // removed by the job since
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname_utf8(e.get(), (top + "/workdir/" + rel).c_str());
    archive_entry_set_mtime(e.get(), st.st_mtime, 0);
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      const std::string target = fs::read_symlink(p, ec).string();
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      archive_entry_set_perm(e.get(), 0777);
      archive_entry_set_symlink_utf8(e.get(), target.c_str());
      if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) return fail(rel);
      continue;
    }
    if (!S_ISREG(st.st_mode)) continue;
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), st.st_mode & 0777);
    archive_entry_set_size(e.get(), st.st_size);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) return fail(rel);
    std::ifstream f(p, std::ios::binary);
    char buf[1 << 16];
    la_int64_t left = st.st_size;  // exactly the size the header gave, even if the file grows
    while (left > 0) {
      f.read(buf, static_cast<std::streamsize>(std::min<la_int64_t>(left, sizeof buf)));
      const la_ssize_t n = f.gcount();
      if (n <= 0) break;
      if (archive_write_data(a.get(), buf, static_cast<size_t>(n)) != n) return fail(rel);
      left -= n;
    }
    if (left > 0) {  // it shrank meanwhile: pad, so the archive stays readable
      std::string zeros(static_cast<size_t>(std::min<la_int64_t>(left, 1 << 20)), '\0');
      while (left > 0) {
        const size_t n = static_cast<size_t>(std::min<la_int64_t>(left, zeros.size()));
        if (archive_write_data(a.get(), zeros.data(), n) != static_cast<la_ssize_t>(n)) return fail(rel);
        left -= static_cast<la_int64_t>(n);
      }
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return fail("close");
  a.reset();
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::Unavailable("cannot finish the package");
  return Status::Ok();
}

}  // namespace loupe::launch
