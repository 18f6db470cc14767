"""Artifacts and the model registry, client side.

A file or folder is hashed in 16 MiB chunks (SHA-256 per chunk and per file); the server
is asked which chunks it lacks, those are sent, and the manifest is committed. Content the
server holds already (from any artifact) is never sent again, and logging the same
content under the same name returns the existing version. Downloads fetch chunk by chunk,
check every hash, and skip files already present with the right content."""
from __future__ import annotations

import hashlib
import os
import re
import time
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import quote

from . import _http

CHUNK_BYTES = 16 << 20
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_ATTEMPTS = 6


class ArtifactError(RuntimeError):
    """The server refused an artifact or registry call, or could not be reached."""


def _retryable(status):
    """Unreachable, rate-limited or failing; not a full disk (507), which waiting rarely mends."""
    return status == 0 or status == 429 or (status >= 500 and status != 507)


def _call(host, method, path, body=None, raw=None):
    """The response's data; retries what is worth retrying (unreachable, 429, 5xx), then
    raises ArtifactError with the server's message."""
    delay = 0.5
    for attempt in range(_ATTEMPTS):
        r = _http.request(host, method, path, body=body, raw=raw, timeout=120.0)
        if r.ok:
            return r.data
        if not _retryable(r.status) or attempt == _ATTEMPTS - 1:
            raise ArtifactError(f"{method} {path}: {r.message or 'HTTP ' + str(r.status)}")
        time.sleep(delay)
        delay = min(delay * 2, 8.0)
    raise AssertionError("unreachable")


def _fetch(host, path):
    delay = 0.5
    for attempt in range(_ATTEMPTS):
        r, body = _http.fetch(host, path, timeout=120.0)
        if r.ok and body is not None:
            return body
        if not _retryable(r.status) or attempt == _ATTEMPTS - 1:
            raise ArtifactError(f"GET {path}: {r.message or 'HTTP ' + str(r.status)}")
        time.sleep(delay)
        delay = min(delay * 2, 8.0)
    raise AssertionError("unreachable")


def default_name(path: str) -> str:
    base = os.path.basename(os.path.normpath(path)) or "artifact"
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", base).lstrip("._-")[:128]
    return name or "artifact"


def _hash_file(full):
    """(size, sha256, [chunk sha256]) of a file, reading it once."""
    whole = hashlib.sha256()
    chunks = []
    size = 0
    with open(full, "rb") as f:
        while True:
            block = f.read(CHUNK_BYTES)
            if not block and chunks:
                break
            whole.update(block)
            chunks.append(hashlib.sha256(block).hexdigest())
            size += len(block)
            if len(block) < CHUNK_BYTES:
                break
    return size, whole.hexdigest(), chunks


def manifest_of(path: str):
    """[(relative path, full path, size, sha256, chunks)] of a file or a folder's files
    (symlinks followed; sorted by path)."""
    path = os.fspath(path)
    if os.path.isfile(path):
        pairs = [(os.path.basename(path), path)]
    elif os.path.isdir(path):
        pairs = []
        seen = set()  # folders walked, by device and inode: a symlink loop is walked once
        for root, dirs, files in os.walk(path, followlinks=True):
            st = os.stat(root)
            if (st.st_dev, st.st_ino) in seen:
                dirs[:] = []
                continue
            seen.add((st.st_dev, st.st_ino))
            dirs.sort()
            for fn in sorted(files):
                full = os.path.join(root, fn)
                if os.path.isfile(full):
                    pairs.append((os.path.relpath(full, path).replace(os.sep, "/"), full))
    else:
        raise FileNotFoundError(f"no file or folder at {path!r}")
    if not pairs:
        raise ValueError(f"{path!r} holds no files; an artifact needs at least one")
    out = []
    for rel, full in sorted(pairs):
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"file name {full!r} is not valid UTF-8; rename it to log it") from None
        size, sha, chunks = _hash_file(full)
        out.append((rel, full, size, sha, chunks))
    return out


def upload(host, path, name, type, aliases=(), description="", metadata=None, experiment_id=None):
    """Uploads what the server lacks and commits the version; returns its detail."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"artifact name {name!r}: use 1-128 letters, digits, '_', '-' or '.', "
                         "starting with a letter or digit")
    manifest = manifest_of(path)
    where = {}  # chunk digest -> (full path, offset, length)
    for rel, full, size, sha, chunks in manifest:
        for i, c in enumerate(chunks):
            where.setdefault(c, (full, i * CHUNK_BYTES, min(CHUNK_BYTES, size - i * CHUNK_BYTES)))
    body = {"name": name, "type": type, "description": description or "", "aliases": list(aliases or []),
            "metadata": metadata or {}, "experiment_id": experiment_id,
            "files": [{"path": rel, "size": size, "sha256": sha, "chunks": chunks}
                      for rel, full, size, sha, chunks in manifest]}
    for attempt in range(2):  # a second round if the server lost chunks meanwhile (a restart's sweep)
        digests = list(where)
        for i in range(0, len(digests), 10000):
            missing = _call(host, "POST", "/api/v1/artifact-blobs/missing", {"digests": digests[i:i + 10000]})["missing"]
            for d in missing:
                full, offset, length = where[d]
                with open(full, "rb") as f:
                    f.seek(offset)
                    data = f.read(length)
                if hashlib.sha256(data).hexdigest() != d:
                    raise ArtifactError(f"{full!r} changed while it was being logged; log it again")
                _call(host, "PUT", "/api/v1/artifact-blobs/" + d, raw=data)
        r = _http.request(host, "POST", "/api/v1/artifact-versions", body, timeout=600.0)
        if r.ok:
            return r.data
        if r.status == 409 and "not stored" in r.message and attempt == 0:
            continue
        if _retryable(r.status):
            return _call(host, "POST", "/api/v1/artifact-versions", body)
        raise ArtifactError(f"logging artifact {name!r}: {r.message or 'HTTP ' + str(r.status)}")
    raise ArtifactError(f"logging artifact {name!r}: the server keeps losing its chunks")


class Artifact:
    """One version of an artifact: its name, type, version, aliases, metadata and files.
    download() fetches it (only what is not on disk already, every hash checked)."""

    def __init__(self, host: str, detail: Dict[str, Any]):
        self._host = host
        self.id: int = detail["id"]
        self.name: str = detail["name"]
        self.type: str = detail["type"]
        self.version: int = detail["version"]
        self.ref: str = detail["ref"]
        self.digest: str = detail["digest"]
        self.size: int = detail["size"]
        self.aliases: List[str] = list(detail.get("aliases") or [])
        self.description: str = detail.get("description") or ""
        self.metadata: Dict[str, Any] = detail.get("metadata") or {}
        self.created: bool = bool(detail.get("created", False))
        self.produced_by = detail.get("produced_by")
        self.registered = None  # the model version, when run.log_model registered it
        self._files = detail.get("files")

    def __repr__(self):
        return f"<Artifact {self.ref} ({self.type}, {self.size} bytes)>"

    @property
    def files(self) -> List[Dict[str, Any]]:
        if self._files is None:
            self._files = _call(self._host, "GET", f"/api/v1/artifacts/{self.name}/v{self.version}")["files"]
        return self._files

    def download(self, root: Optional[str] = None) -> str:
        """Writes the files under `root` (default ./artifacts/<name>-v<N>) and returns it."""
        root = os.path.abspath(root or os.path.join("artifacts", f"{self.name}-v{self.version}"))
        os.makedirs(root, exist_ok=True)
        real_root = os.path.realpath(root)
        for f in self.files:
            target = os.path.abspath(os.path.join(root, *f["path"].split("/")))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            # Folders are resolved (symlinks included), so no file lands outside the root.
            real_parent = os.path.realpath(os.path.dirname(target))
            if os.path.commonpath([real_root, real_parent]) != real_root:
                raise ArtifactError(f"file path {f['path']!r} would leave {root!r} (through a symlink)")
            target = os.path.join(real_parent, os.path.basename(target))
            if os.path.isfile(target) and not os.path.islink(target) and os.path.getsize(target) == f["size"] \
                    and _hash_file(target)[1] == f["sha256"]:
                continue
            tmp = target + ".loupe-part"
            whole = hashlib.sha256()
            with open(tmp, "wb") as out:
                for c in f["chunks"]:
                    data = _fetch(self._host, "/api/v1/artifact-blobs/" + c)
                    if hashlib.sha256(data).hexdigest() != c:
                        out.close()
                        os.remove(tmp)
                        raise ArtifactError(f"a chunk of {f['path']!r} arrived damaged (the server's copy, or "
                                            "the connection); download again, or log the content again to repair it")
                    whole.update(data)
                    out.write(data)
            if whole.hexdigest() != f["sha256"]:
                os.remove(tmp)
                raise ArtifactError(f"{f['path']!r} does not match its sha256 after download")
            os.replace(tmp, target)  # a symlink at the target is replaced, not followed
        return root

    def file(self, path: str, root: Optional[str] = None) -> str:
        """Downloads the artifact (as download()) and returns the local path of one file."""
        if not any(f["path"] == path for f in self.files):
            raise KeyError(f"{self.ref} has no file {path!r}")
        return os.path.join(self.download(root), *path.split("/"))


def resolve(host, ref: str, experiment_id=None) -> Artifact:
    """The version `ref` names ("name", "name:v3", "name:latest", "name:<alias>"); with an
    experiment id, recorded as used by that run."""
    if not isinstance(ref, str) or not ref:
        raise ValueError("an artifact reference is a string: name, name:v3, name:latest or name:<alias>")
    name, _, selector = ref.partition(":")
    path = f"/api/v1/artifacts/{quote(name, safe='')}/{quote(selector or 'latest', safe='')}"
    if experiment_id is None:
        return Artifact(host, _call(host, "GET", path))
    return Artifact(host, _call(host, "POST", path + "/use", {"experiment_id": experiment_id}))


class ModelVersion:
    """A registered model version: the model's name, its version and aliases, and the
    artifact version it points at (`artifact`, with download())."""

    def __init__(self, host: str, data: Dict[str, Any]):
        self.model: str = data["model"]
        self.version: int = data["version"]
        self.ref: str = data["ref"]
        self.aliases: List[str] = list(data.get("aliases") or [])
        self.description: str = data.get("description") or ""
        self.artifact = Artifact(host, data["artifact"])

    def __repr__(self):
        return f"<ModelVersion {self.ref} -> {self.artifact.ref}>"

    def download(self, root: Optional[str] = None) -> str:
        return self.artifact.download(root)


def register(host, artifact, model: str, aliases: Sequence[str] = (), description: str = "") -> ModelVersion:
    body: Dict[str, Any] = {"aliases": list(aliases or []), "description": description or ""}
    if isinstance(artifact, Artifact):
        body["artifact_version_id"] = artifact.id
    else:
        body["artifact"] = artifact
    data = _call(host, "POST", f"/api/v1/registry/models/{quote(model, safe='')}/versions", body)
    return ModelVersion(host, data)


def model_version(host, ref: str) -> ModelVersion:
    name, _, selector = ref.partition(":")
    data = _call(host, "GET", f"/api/v1/registry/models/{quote(name, safe='')}/versions/{quote(selector or 'latest', safe='')}")
    return ModelVersion(host, data)
