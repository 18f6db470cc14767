"""A real single-node Slurm cluster in a scratch folder, for tests: Debian's slurm-wlm
(slurmctld + slurmd) and a munged of its own on a private socket, on free ports, with two
fake GPUs (character devices, as Slurm's gres/gpu needs) and the job completion log that
`sacct -c` reads. Nothing system-wide is touched: clients find it through SLURM_CONF.

A requeued job starts again after 5 s (cred_expire; Slurm's default is 120 s).

Needs root (Slurm's daemons run jobs as their users; mknod), as CI runs. Start-up is about
a second; `stop()` shuts both daemons down and removes the folder."""
import os
import shutil
import socket
import subprocess
import tempfile
import time


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlurmCluster:
    """`cpus` above this machine's count are accepted as configured (config_overrides), for
    benchmarks that run more jobs at once than there are cores."""

    def __init__(self, cpus=2, memory_mb=2000, gpus=2, min_job_age=300):
        self.cpus, self.memory_mb, self.gpus, self.min_job_age = cpus, memory_mb, gpus, min_job_age
        self.dir = None
        self.conf = None

    def env(self):
        env = dict(os.environ)
        env["SLURM_CONF"] = self.conf
        return env

    def run(self, *args, check=True):
        out = subprocess.run(list(args), env=self.env(), capture_output=True, text=True, timeout=60)
        if check and out.returncode != 0:
            raise AssertionError(f"{' '.join(args)}: rc {out.returncode}: {out.stderr}{out.stdout}")
        return out.stdout

    def start(self):
        for tool in ("slurmctld", "slurmd", "munged", "sbatch"):
            if not shutil.which(tool):
                raise AssertionError(f"{tool} is not installed: scripts/install-deps installs slurm-wlm and munge")
        if os.geteuid() != 0:
            raise AssertionError("the Slurm tests need root (Slurm's daemons and mknod for the fake GPUs)")
        self.dir = tempfile.mkdtemp(prefix="loupe-slurm-")
        d = self.dir
        for sub in ("state", "spool", "munge"):
            os.makedirs(os.path.join(d, sub))
        os.chmod(os.path.join(d, "munge"), 0o700)
        key = os.path.join(d, "munge", "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(128))
        os.chmod(key, 0o400)
        self.munge_socket = os.path.join(d, "munge", "munge.sock")
        subprocess.run(["munged", "--force", f"--socket={self.munge_socket}", f"--key-file={key}",
                        f"--log-file={d}/munge/munged.log", f"--pid-file={d}/munge/munged.pid",
                        f"--seed-file={d}/munge/seed"], check=True, timeout=30)
        gres = ""
        if self.gpus:
            for i in range(self.gpus):
                os.mknod(os.path.join(d, f"gpu{i}"), 0o666 | 0o020000, os.makedev(195, i))
            with open(os.path.join(d, "gres.conf"), "w") as f:
                f.write(f"AutoDetect=off\nName=gpu Type=fake File={d}/gpu[0-{self.gpus - 1}]\n")
            gres = f" Gres=gpu:fake:{self.gpus}"
        self.conf = os.path.join(d, "slurm.conf")
        self.jobcomp = os.path.join(d, "jobcomp.txt")
        with open(self.conf, "w") as f:
            f.write(f"""ClusterName=loupetest
SlurmctldHost=localhost
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket},cred_expire=5
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=100
MpiDefault=none
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc={self.jobcomp}
KillWait=5
MinJobAge={self.min_job_age}
SchedulerParameters=sched_interval=1
{"SlurmdParameters=config_overrides" if self.cpus > (os.cpu_count() or 1) else ""}
{"GresTypes=gpu" if self.gpus else ""}
NodeName=localhost CPUs={self.cpus} RealMemory={self.memory_mb}{gres} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
        self.run("slurmctld", "-f", self.conf)
        self.run("slurmd", "-f", self.conf)
        deadline = time.time() + 30
        while time.time() < deadline:
            state = self.run("sinfo", "-h", "-o", "%T", check=False).strip()
            if state == "idle":
                return self
            time.sleep(0.2)
        raise AssertionError(f"the Slurm node did not become idle (state {state!r}): {self.log()}")

    def log(self):
        out = ""
        for name in ("slurmctld.log", "slurmd.log"):
            try:
                with open(os.path.join(self.dir, name), encoding="utf-8", errors="replace") as f:
                    out += f"\n--- {name}\n" + "".join(f.readlines()[-30:])
            except OSError:
                pass
        return out

    def job(self, job_id):
        """`scontrol show job` of one job as a dict (an empty dict once Slurm forgot it)."""
        out = subprocess.run(["scontrol", "show", "job", "-o", str(job_id)], env=self.env(),
                             capture_output=True, text=True, timeout=30)
        fields = {}
        for word in out.stdout.split():
            if "=" in word:
                k, v = word.split("=", 1)
                fields.setdefault(k, v)
        return fields

    def runs(self, job_id):
        """The job's runs from the completion log: [(state, start, end)] with Slurm's times."""
        out = self.run("sacct", "-c", "-j", str(job_id), "-S", "2000-01-01", "--parsable2", "--noheader",
                       "-o", "JobID,State,Start,End")
        return [tuple(line.split("|")[1:4]) for line in out.splitlines() if line.split("|")[0] == str(job_id)]

    def stop(self):
        if not self.dir:
            return
        if self.conf:
            subprocess.run(["scontrol", "shutdown"], env=self.env(), capture_output=True, timeout=30)
            deadline = time.time() + 10
            while time.time() < deadline:
                alive = [p for p in ("slurmctld.pid", "slurmd.pid") if self._alive(p)]
                if not alive:
                    break
                time.sleep(0.1)
        # The job steps' own daemons (slurmstepd) outlive slurmd's shutdown: end every process
        # still working in the scratch folder, or each test run would leave them behind.
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                continue
            if cwd == self.dir or cwd.startswith(self.dir + "/"):
                try:
                    os.kill(int(pid), 9)
                except OSError:
                    pass
        pid_file = os.path.join(self.dir, "munge", "munged.pid")
        try:
            with open(pid_file) as f:
                os.kill(int(f.read().strip()), 15)
        except (OSError, ValueError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def _alive(self, pid_file):
        try:
            with open(os.path.join(self.dir, pid_file)) as f:
                os.kill(int(f.read().strip()), 0)
            return True
        except (OSError, ValueError):
            return False


class SlurmClusterCase:
    """A test class mixin: one cluster for the class, found by the server's tools through
    SLURM_CONF as any client finds it, and SLURM_CONF as it was afterwards."""

    @classmethod
    def start_cluster(cls):
        cls.cluster = SlurmCluster().start()
        cls.old_conf = os.environ.get("SLURM_CONF")
        os.environ["SLURM_CONF"] = cls.cluster.conf

    @classmethod
    def stop_cluster(cls):
        cls.cluster.stop()
        if cls.old_conf is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = cls.old_conf
