"""A real S3 server for the storage tests: s3rver (npm, pinned in package-lock.json) on a
free port, with the buckets `datasets` (holding iris/train.csv, 150 rows, and iris/README)
and `results`, read and written with Debian's rclone as a user would."""
import os
import shutil
import subprocess
import tempfile
import time

from runpod_standin import free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
S3RVER = os.path.join(ROOT, "node_modules", ".bin", "s3rver")
KEYS = "S3RVER:S3RVER"  # the only credentials s3rver accepts


class S3Server:
    """s3rver on a free port with the buckets datasets (holding iris/) and results."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="loupe-s3rver-")
        self.endpoint = f"http://127.0.0.1:{free_port()}"
        self.proc = subprocess.Popen([S3RVER, "-d", self.dir, "-a", "127.0.0.1", "-p", self.endpoint.rsplit(":", 1)[1],
                                      "-s", "--configure-bucket", "datasets", "--configure-bucket", "results"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while subprocess.run(["rclone", "--config", "/dev/null", "lsd", "s3:"], env=self.env(),
                             capture_output=True).returncode != 0:
            if time.time() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("s3rver did not start")
            time.sleep(0.2)
        src = tempfile.mkdtemp(prefix="loupe-iris-")
        with open(os.path.join(src, "train.csv"), "w") as f:
            f.write("x,y\n" + "".join(f"{i},{i % 3}\n" for i in range(150)))
        with open(os.path.join(src, "README"), "w") as f:
            f.write("iris-shaped rows\n")
        self.rclone("copy", src, "s3:datasets/iris")
        shutil.rmtree(src)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def env(self):
        env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}  # see storage.sh: rclone 1.60
        env.update(RCLONE_CONFIG_S3_TYPE="s3", RCLONE_CONFIG_S3_PROVIDER="Other", RCLONE_CONFIG_S3_ENDPOINT=self.endpoint,
                   RCLONE_CONFIG_S3_ACCESS_KEY_ID="S3RVER", RCLONE_CONFIG_S3_SECRET_ACCESS_KEY="S3RVER")
        return env

    def rclone(self, *args):
        r = subprocess.run(["rclone", "--config", "/dev/null", *args], env=self.env(), capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"rclone {args}: {r.stderr}")
        return r.stdout
