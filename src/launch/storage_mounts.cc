#include "launch/storage_mounts.h"

#include <regex>

#include "common/display_text.h"

namespace loupe::launch {

namespace {

using nlohmann::json;

bool HasControl(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// "a/b/c" with no empty, "." or ".." part.
bool PlainRelative(const std::string& path) {
  if (path.empty() || path[0] == '/' || path.back() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// a is b, or a folder that holds b.
bool Covers(const std::string& a, const std::string& b) {
  return a == b || (b.size() > a.size() && b.compare(0, a.size(), a) == 0 && b[a.size()] == '/');
}

void ParseSource(const std::string& field, StorageMount& m, std::vector<SpecProblem>& problems) {
  static const std::regex kBucket(R"(^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$)");
  if (m.source.rfind("s3://", 0) != 0) {
    problems.push_back({field, "must be an s3://bucket/prefix address"});
    return;
  }
  std::string rest = m.source.substr(5);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t slash = rest.find('/');
  m.bucket = rest.substr(0, slash);
  m.prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (!std::regex_match(m.bucket, kBucket)) {
    problems.push_back({field, "'" + m.bucket + "' is not an S3 bucket name (3-63 lower-case letters, digits, '.' and '-')"});
  } else if (!m.prefix.empty() && !PlainRelative(m.prefix)) {
    problems.push_back({field, "the prefix after the bucket must be folder names joined by '/' (no empty, '.' or '..' part)"});
  }
  m.source = "s3://" + rest;
}

// Mount n's source as rclone names it, with the remote storage.sh configures for it.
std::string Remote(const StorageMount& m, size_t n) {
  return "loupe" + std::to_string(n) + ":" + m.bucket + (m.prefix.empty() ? "" : "/" + m.prefix);
}

// One call of a storage.sh function: `what n 'remote' 'source' 'path'`.
std::string Step(const char* what, const StorageMount& m, size_t n) {
  return std::string(what) + " " + std::to_string(n) + " " + ShellQuote(Remote(m, n)) + " " + ShellQuote(m.source) +
         " " + ShellQuote(m.path) + "\n";
}

}  // namespace

std::vector<SpecProblem> ParseMounts(const json& list, std::vector<StorageMount>& out) {
  std::vector<SpecProblem> problems;
  out.clear();
  if (!list.is_array() || list.size() > kMaxMounts) {
    problems.push_back({"mounts", "must be a list of at most " + std::to_string(kMaxMounts) +
                                      " mounts ({source: s3://bucket/prefix, path: data})"});
    return problems;
  }
  static const std::vector<std::string> kKeys = {"source", "path", "mode", "write_back", "endpoint", "region", "secret"};
  static const std::regex kEndpoint(R"(^https?://[A-Za-z0-9.:\[\]_-]+(/[!-~]*)?$)");
  static const std::regex kRegion(R"(^[a-z0-9-]{1,64}$)");
  static const std::regex kSecret(R"(^[A-Za-z0-9_.-]{1,64}$)");
  std::vector<size_t> index;  // out[k] is list[index[k]]
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = "mounts[" + std::to_string(i) + "]";
    const json& item = list[i];
    if (!item.is_object()) {
      problems.push_back({at, "must be an object ({source: s3://bucket/prefix, path: data})"});
      continue;
    }
    const size_t before = problems.size();
    for (auto it = item.begin(); it != item.end(); ++it) {
      if (std::find(kKeys.begin(), kKeys.end(), it.key()) == kKeys.end()) {
        problems.push_back({at + "." + it.key(), "unknown key (known: source, path, mode, write_back, endpoint, region, secret)"});
      }
    }
    // A string field: absent or null is "", anything else not a short string is a problem.
    auto text = [&](const char* key, size_t max, std::string& v) {
      if (!item.contains(key) || item[key].is_null()) return false;
      if (!item[key].is_string() || item[key].get<std::string>().size() > max || HasControl(item[key].get<std::string>())) {
        problems.push_back({at + "." + key, "must be a string of at most " + std::to_string(max) +
                                                " bytes with no control characters"});
        return false;
      }
      v = item[key].get<std::string>();
      return true;
    };
    StorageMount m;
    if (!text("source", 1100, m.source)) {
      if (!item.contains("source") || item["source"].is_null()) problems.push_back({at + ".source", "is required (s3://bucket/prefix)"});
    } else {
      ParseSource(at + ".source", m, problems);
    }
    if (!text("path", 255, m.path)) {
      if (!item.contains("path") || item["path"].is_null()) {
        problems.push_back({at + ".path", "is required (the folder of the working directory it appears as)"});
      }
    } else {
      while (m.path.size() > 1 && m.path.back() == '/') m.path.pop_back();
      if (m.path.rfind("./", 0) == 0) m.path = m.path.substr(2);
      if (!PlainRelative(m.path) || m.path.find('\\') != std::string::npos) {
        problems.push_back({at + ".path", "must be a folder inside the working directory (e.g. data or inputs/train), "
                                          "with no '..' part"});
      }
    }
    if (text("mode", 16, m.mode) && m.mode != "copy" && m.mode != "mount") {
      problems.push_back({at + ".mode", "must be 'copy' (copied in before the command) or 'mount' (read-only, with rclone over FUSE)"});
    }
    if (item.contains("write_back") && !item["write_back"].is_null()) {
      if (!item["write_back"].is_boolean()) {
        problems.push_back({at + ".write_back", "must be true or false"});
      } else {
        m.write_back = item["write_back"].get<bool>();
      }
    }
    if (m.mode == "mount" && m.write_back) {
      problems.push_back({at + ".write_back", "a mount is read-only (rclone's write cache can lose an upload still in "
                                              "flight when it unmounts); write results to a copy-mode folder with "
                                              "write_back"});
    }
    if (text("endpoint", 512, m.endpoint) && !std::regex_match(m.endpoint, kEndpoint)) {
      problems.push_back({at + ".endpoint", "must be an http(s) URL of an S3-compatible server (e.g. https://s3.example.com:9000)"});
    }
    if (text("region", 64, m.region) && !std::regex_match(m.region, kRegion)) {
      problems.push_back({at + ".region", "must be a region name (lower-case letters, digits and '-', e.g. eu-west-1)"});
    }
    if (text("secret", 64, m.secret) && !std::regex_match(m.secret, kSecret)) {
      problems.push_back({at + ".secret", "must be a secret's name (letters, digits, _ . -)"});
    }
    if (problems.size() != before) continue;
    for (size_t k = 0; k < out.size(); ++k) {
      if (Covers(out[k].path, m.path) || Covers(m.path, out[k].path)) {
        problems.push_back({at + ".path", "'" + m.path + "' overlaps mounts[" + std::to_string(index[k]) + "].path '" +
                                              out[k].path + "'"});
      }
    }
    for (size_t k = 0; k < out.size(); ++k) {
      const StorageMount& o = out[k];
      const bool same_place = o.endpoint == m.endpoint && o.bucket == m.bucket &&
                              (o.prefix.empty() || m.prefix.empty() || Covers(o.prefix, m.prefix) || Covers(m.prefix, o.prefix));
      if (same_place && (o.write_back || m.write_back)) {
        problems.push_back({at + ".source", "'" + m.source + "' is, holds or is inside mounts[" + std::to_string(index[k]) +
                                                "].source '" + o.source + "', and one is written back: the other's copy "
                                                "would overwrite what the job wrote (mount the folder once)"});
      }
    }
    m.index = i;
    out.push_back(m);
    index.push_back(i);
  }
  return problems;
}

json MountsToJson(const std::vector<StorageMount>& mounts) {
  json out = json::array();
  for (const StorageMount& m : mounts) {
    json j = {{"source", m.source}, {"path", m.path}, {"mode", m.mode}, {"write_back", m.write_back}};
    if (!m.endpoint.empty()) j["endpoint"] = m.endpoint;
    if (!m.region.empty()) j["region"] = m.region;
    if (!m.secret.empty()) j["secret"] = m.secret;
    out.push_back(j);
  }
  return out;
}

std::string MountKeyVariable(size_t n) { return "LOUPE_MOUNT_" + std::to_string(n) + "_ACCESS_KEY_ID"; }
std::string MountSecretVariable(size_t n) { return "LOUPE_MOUNT_" + std::to_string(n) + "_SECRET_ACCESS_KEY"; }

Result<std::pair<std::string, std::string>> SplitS3Credentials(const std::string& value) {
  const size_t colon = value.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size() || HasControl(value)) {
    return Status::InvalidArgument("must hold ACCESS_KEY_ID:SECRET_ACCESS_KEY (the two joined by one ':')");
  }
  return std::make_pair(value.substr(0, colon), value.substr(colon + 1));
}

std::string StorageScript(const JobSpec& spec, int64_t job_id) {
  std::string s =
      "#!/bin/bash\n"
      "# Loupe job " + std::to_string(job_id) + "'s storage, written from its spec's mounts: S3 folders copied in or\n"
      "# mounted read-only before the command, and copied back after it, by rclone. Mount n's\n"
      "# credentials come from LOUPE_MOUNT_<n>_ACCESS_KEY_ID and LOUPE_MOUNT_<n>_SECRET_ACCESS_KEY\n"
      "# (Loupe sets them from its secret store); they are taken out of the command's environment.\n"
      "set -u\n"
      "say() { printf '[loupe] %s\\n' \"$*\" >&2; }\n"
      "if ! command -v rclone >/dev/null 2>&1; then\n"
      "  say 'storage mounts need rclone, which is not installed here (Debian and Ubuntu: apt install rclone)'\n"
      "  exit 127\n"
      "fi\n"
      // rclone 1.60 (Debian 12) fails on every S3 call when it reads AWS_CA_BUNDLE itself
      // ("unsupported transport"): the bundle goes in as a flag instead.
      "ca=()\n"
      "if [ -n \"${AWS_CA_BUNDLE:-}\" ]; then ca=(--ca-cert \"$AWS_CA_BUNDLE\"); fi\n"
      "how=  # 'setsid' for a mount, which must outlive a signal to the job's process group\n";
  bool any_mount = false;
  for (size_t n = 0; n < spec.mounts.size(); ++n) {
    const StorageMount& m = spec.mounts[n];
    any_mount = any_mount || m.mode == "mount";
    const std::string N = std::to_string(n), R = "RCLONE_CONFIG_LOUPE" + N + "_";
    s += "key" + N + "=\"${" + MountKeyVariable(n) + "-}\"; secret" + N + "=\"${" + MountSecretVariable(n) + "-}\"\n";
    if (!m.secret.empty()) {  // run elsewhere without them, it would read anonymously
      s += "if [ -z \"$key" + N + "\" ] || [ -z \"$secret" + N + "\" ]; then\n"
           "  say " + ShellQuote("mounts[" + N + "] (" + m.source + ") needs " + MountKeyVariable(n) + " and " +
                                 MountSecretVariable(n) + " (the Loupe secret " + m.secret + " held them)") + "\n"
           "  exit 1\n"
           "fi\n";
    }
    s += "unset " + MountKeyVariable(n) + " " + MountSecretVariable(n) + "\n";
    // A subshell's exports: the keys never appear on a command line (ps shows those).
    s += "rclone" + N + "() {\n  (\n    unset AWS_CA_BUNDLE\n    export " + R + "TYPE=s3 " + R + "PROVIDER=" +
         (m.endpoint.empty() ? "AWS" : "Other") + "\n";
    if (!m.endpoint.empty()) s += "    export " + R + "ENDPOINT=" + ShellQuote(m.endpoint) + "\n";
    if (!m.region.empty()) s += "    export " + R + "REGION=" + ShellQuote(m.region) + "\n";
    if (m.secret.empty()) {
      s += "    export " + R + "ENV_AUTH=true  # the machine's own AWS credentials\n";
    } else {
      s += "    export " + R + "ACCESS_KEY_ID=\"$key" + N + "\" " + R + "SECRET_ACCESS_KEY=\"$secret" + N + "\"\n";
    }
    s += "    exec $how rclone --config /dev/null ${ca[@]+\"${ca[@]}\"} \"$@\"\n  )\n}\n";
  }
  if (any_mount) {
    s += "fusermount=$(command -v fusermount3 || command -v fusermount)\n"
         "if [ -z \"$fusermount\" ] || [ ! -e /dev/fuse ]; then\n"
         "  say 'a read-only mount needs FUSE (/dev/fuse and fusermount3, Debian: apt install fuse3); use mode: copy where there is none'\n"
         "  exit 1\n"
         "fi\n";
  }
  // rclone's default timeouts and retries keep a wrong endpoint quiet for minutes: these
  // fail it within about a minute, and its last words become the failure's message.
  s += "mounted=()\n"
       "pids=()\n"
       "unmount_all() {\n"
       "  local i\n"
       "  for i in \"${!mounted[@]}\"; do\n"
       "    \"$fusermount\" -u -- \"${mounted[$i]}\" 2>/dev/null || \"$fusermount\" -u -z -- \"${mounted[$i]}\" 2>/dev/null\n"
       "    wait \"${pids[$i]}\" 2>/dev/null\n"
       "  done\n"
       "  mounted=()\n"
       "}\n"
       "trap unmount_all EXIT\n"
       "fast=(--contimeout 15s --timeout 60s --retries 2 --low-level-retries 2 -q)\n"
       "files() { local n; n=$(find \"./$1\" -type f | wc -l); n=${n// /}; [ \"$n\" = 1 ] && echo '1 file' || echo \"$n files\"; }\n"
       "# A path, or a folder on its way, that is a link would send the copy (or the write-back)\n"
       "# outside the working directory: refused.\n"
       "no_links() {\n"
       "  local p=\"\" part parts\n"
       "  IFS=/ read -r -a parts <<< \"$1\"\n"
       "  for part in \"${parts[@]}\"; do\n"
       "    p=\"${p:+$p/}$part\"\n"
       "    if [ -L \"$p\" ]; then say \"$p is a link in the working directory: a mount's folder must be a real folder there\"; exit 1; fi\n"
       "  done\n"
       "}\n"
       "rclone_said() {  # the last line rclone printed, for the failure's message\n"
       "  printf '%s\\n' \"$1\" >&2\n"
       "  printf '%s' \"$1\" | awk '/^[^ \\t]/ { last = $0; more = \"\" } /^[ \\t]/ && NF { sub(/^[ \\t]+/, \"\"); more = more \" \" $0 }"
       " END { sub(/^[0-9\\/]+ [0-9:]+ /, \"\", last); print last more }'\n"
       "}\n"
       "copy_in() {  # n source shown path\n"
       "  local t=$SECONDS out\n"
       "  say \"copying $3 into $4/\"\n"
       "  no_links \"$4\"\n"
       "  mkdir -p -- \"$4\" || { say \"cannot make the folder $4/\"; exit 1; }\n"
       "  if ! out=$(\"rclone$1\" copy \"$2\" \"./$4\" \"${fast[@]}\" 2>&1); then\n"
       "    say \"copying $3 into $4/ failed: $(rclone_said \"$out\"); the command was not started\"\n"
       "    exit 1\n"
       "  fi\n"
       "  say \"copied $3 into $4/ in $((SECONDS - t)) s: $(files \"$4\") there\"\n"
       "}\n"
       "mount_ro() {  # n source shown path\n"
       "  local waited=0\n"
       "  no_links \"$4\"\n"
       "  mkdir -p -- \"$4\" || { say \"cannot make the folder $4/\"; exit 1; }\n"
       "  if [ -n \"$(ls -A -- \"$4\")\" ]; then\n"
       "    say \"cannot mount $3 on $4/: the folder is not empty (the working directory has files there)\"\n"
       "    exit 1\n"
       "  fi\n"
       "  say \"mounting $3 on $4/ (read-only)\"\n"
       "  how=setsid \"rclone$1\" mount \"$2\" \"./$4\" --read-only --dir-cache-time 30s --contimeout 15s --timeout 60s "
       "--low-level-retries 2 -q &\n"
       "  pids+=($!)\n"
       "  mounted+=(\"$4\")\n"
       "  until mountpoint -q -- \"$4\"; do\n"
       "    if ! kill -0 \"${pids[${#pids[@]}-1]}\" 2>/dev/null || [ \"$waited\" -ge 300 ]; then\n"
       "      say \"mounting $3 on $4/ failed (rclone's words are above); the command was not started\"\n"
       "      exit 1\n"
       "    fi\n"
       "    sleep 0.1; waited=$((waited + 1))\n"
       "  done\n"
       "}\n"
       "failed_back=\n"
       "copy_out() {  # n source shown path\n"
       "  local t=$SECONDS out\n"
       "  no_links \"$4\"\n"
       "  say \"writing $4/ back to $3\"\n"
       "  if out=$(\"rclone$1\" copy \"./$4\" \"$2\" \"${fast[@]}\" 2>&1); then\n"
       "    say \"wrote $4/ back to $3 in $((SECONDS - t)) s: $(files \"$4\")\"\n"
       "  else\n"
       "    say \"writing $4/ back to $3 failed: $(rclone_said \"$out\")\"\n"
       "    failed_back=1\n"
       "  fi\n"
       "}\n";
  for (size_t n = 0; n < spec.mounts.size(); ++n) {
    s += Step(spec.mounts[n].mode == "mount" ? "mount_ro" : "copy_in", spec.mounts[n], n);
  }
  s += "# The command in the background, so that this shell outlives it and writes its results\n"
       "# back. Every executor signals the whole process group: the command gets the signal itself.\n"
       "trap : TERM INT\n"
       "/bin/bash -c " + ShellQuote(spec.command) + " &\n"
       "child=$!\n"
       "while :; do\n"
       "  wait \"$child\"\n"
       "  kill -0 \"$child\" 2>/dev/null && continue  # a trap interrupted the wait\n"
       "  wait \"$child\"; rc=$?\n"
       "  break\n"
       "done\n"
       "unmount_all\n";
  for (size_t n = 0; n < spec.mounts.size(); ++n) {
    if (spec.mounts[n].write_back) s += Step("copy_out", spec.mounts[n], n);
  }
  // A status of 128 + N is how bash reports a command ended by signal N (or one that exited
  // so): the signals that end a process are raised again, so the job records the signal;
  // the others (SIGSTOP's 147 would stop this shell, not end it) are an exit status.
  s += "if [ \"$rc\" -eq 0 ] && [ -n \"$failed_back\" ]; then\n"
       "  say 'the command succeeded, but its results are not all back in S3: the job fails'\n"
       "  rc=1\n"
       "fi\n"
       "case $((rc - 128)) in\n"
       "  17|18|19|20|21|22|23|28) ;;  # ignored or stopping by default: an exit status\n"
       "  [1-9]|[12][0-9]|3[01])\n"
       "    trap - TERM INT EXIT\n"
       "    kill -s \"$((rc - 128))\" $$ ;;\n"
       "esac\n"
       "exit \"$rc\"\n";
  return s;
}

}  // namespace loupe::launch
