"""Host and runtime metadata, and periodic system metrics (CPU, memory, GPU)."""
import os
import platform
import shutil
import subprocess
import sys


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _run(args, cwd=None):
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=5, cwd=cwd)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def _meminfo():
    info = {}
    for line in _read("/proc/meminfo").splitlines():
        parts = line.split()
        if len(parts) >= 2:
            info[parts[0].rstrip(":")] = int(parts[1]) * 1024
    return info


def gpus():
    """[{name, memory_mb, driver}] from nvidia-smi, or [] when there is none."""
    if not shutil.which("nvidia-smi"):
        return []
    out = _run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits"])
    result = []
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3:
            result.append({"name": parts[0], "memory_mb": _num(parts[1]), "driver": parts[2]})
    return result


def _num(text):
    try:
        return float(text)
    except ValueError:
        return None


def metadata():
    brand = ""
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            brand = line.split(":", 1)[1].strip()
            break
    meta = {
        "os": platform.platform(),
        "hostname": platform.node(),
        "python": platform.python_version(),
        "executable": sys.executable,
        "command": " ".join([sys.executable] + sys.argv),
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "cpu": {"brand": brand or platform.processor(), "cores": os.cpu_count()},
        # GiB, as SwanLab's own metadata computes the field it calls GB (compatibility).
        "memory": round(_meminfo().get("MemTotal", 0) / 2 ** 30, 2),
    }
    commit = _run(["git", "rev-parse", "HEAD"])
    if commit:
        meta["git"] = {"commit": commit, "branch": _run(["git", "rev-parse", "--abbrev-ref", "HEAD"]),
                       "dirty": bool(_run(["git", "status", "--porcelain"]))}
    found = gpus()
    if found:
        cuda = ""
        header = _run(["nvidia-smi"])
        if "CUDA Version:" in header:
            cuda = header.split("CUDA Version:", 1)[1].split()[0]
        meta["gpu"] = {"nvidia": {"type": [g["name"] for g in found],
                                  "memory": [round((g["memory_mb"] or 0) / 1024) for g in found],
                                  "driver": found[0]["driver"], "cuda": cuda}}
    return meta


def requirements():
    try:
        from importlib import metadata as md
    except ImportError:
        return []
    seen = {}
    for dist in md.distributions():
        name = dist.metadata.get("Name")
        if name and name.lower() not in seen:
            seen[name.lower()] = f"{name}=={dist.version}"
    return sorted(seen.values(), key=str.lower)


class Sampler:
    """Samples system metrics; each call returns a dict of system/... keys."""

    def __init__(self):
        self._last_cpu = self._cpu_times()
        self._has_gpu = shutil.which("nvidia-smi") is not None

    def _all_gpus(self, values):
        # CUDA_VISIBLE_DEVICES by UUID or otherwise not indices: every GPU, as without it.
        self._gpu_values(_run(["nvidia-smi", "--query-gpu=index,utilization.gpu,memory.used,memory.total,"
                               "temperature.gpu,power.draw", "--format=csv,noheader,nounits"]), values)
        return values

    @staticmethod
    def _gpu_values(out, values):
        for line in out.splitlines():
            fields = [p.strip() for p in (line.split(",") + [""] * 6)[:6]]
            if not fields[0].isdigit():
                continue
            i = int(fields[0])
            util, used, total, temp, power = (_num(p) for p in fields[1:])
            if util is not None:
                values[f"system/gpu.{i}.utilization"] = util
            if used is not None and total:
                values[f"system/gpu.{i}.memory.percent"] = round(100.0 * used / total, 2)
                values[f"system/gpu.{i}.memory.used_mb"] = round(used * 2 ** 20 / 1e6, 1)  # nvidia-smi says MiB
                values[f"system/gpu.{i}.memory.total_mb"] = round(total * 2 ** 20 / 1e6, 1)
            if temp is not None:
                values[f"system/gpu.{i}.temperature"] = temp
            if power is not None:
                values[f"system/gpu.{i}.power_w"] = power

    @staticmethod
    def _cpu_times():
        fields = _read("/proc/stat").splitlines()[:1]
        if not fields:
            return None
        nums = [int(x) for x in fields[0].split()[1:]]
        idle = nums[3] + (nums[4] if len(nums) > 4 else 0)
        return sum(nums), idle

    def sample(self):
        values = {}
        now = self._cpu_times()
        if now and self._last_cpu and now[0] > self._last_cpu[0]:
            total, idle = now[0] - self._last_cpu[0], now[1] - self._last_cpu[1]
            values["system/cpu.percent"] = round(100.0 * (total - idle) / total, 2)
        self._last_cpu = now
        mem = _meminfo()
        if mem.get("MemTotal"):
            used = mem["MemTotal"] - mem.get("MemAvailable", 0)
            values["system/memory.percent"] = round(100.0 * used / mem["MemTotal"], 2)
            values["system/memory.used_gb"] = round(used / 1e9, 3)  # decimal GB, as the key says
        for line in _read("/proc/self/status").splitlines():
            if line.startswith("VmRSS:"):
                values["system/process.memory_mb"] = round(int(line.split()[1]) * 1024 / 1e6, 1)  # kB are KiB
        if self._has_gpu:
            # Only the GPUs this process may use (a job Loupe launched gets its own through
            # CUDA_VISIBLE_DEVICES, "" for none), named by their index on the machine.
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
            ids = [v.strip() for v in visible.split(",")] if visible else []
            if visible is not None and (not ids or not all(v.isdigit() for v in ids)):
                return values if not ids else self._all_gpus(values)
            query = ["nvidia-smi", "--query-gpu=index,utilization.gpu,memory.used,memory.total,temperature.gpu,"
                     "power.draw", "--format=csv,noheader,nounits"]
            if ids:
                query.append("--id=" + ",".join(ids))
            self._gpu_values(_run(query), values)
        return values

