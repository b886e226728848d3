"""The evidence store: files kept by their SHA-256, under one folder.

    <RECTIFY_EVIDENCE_DIR, default <home>/evidence>/sha256/3f/3f2a9c01…(64 hex digits)

A file's path is its digest and nothing else: no name from an upload ever
becomes a path, two uploads of the same bytes share one file, and a file
whose bytes no longer hash to its name has been changed (`check`). Files are
written once (a temporary file in the same folder, flushed to disk, then
renamed into place) and left read-only; nothing here ever runs or opens them
with another program.

A file is stored before the database row that names it is committed: a
rolled-back upload can leave a file nobody names (harmless, the same bytes
would be stored under the same name again), never a row without its file.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from statemachine.errors import AuditBroken, Misconfigured

__all__ = ["EvidenceStore", "digest_of"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class EvidenceStore:
    root: Path

    def path_of(self, sha256: str) -> Path:
        if not _HEX64.fullmatch(sha256):  # a digest read from a tampered row is no path either
            raise AuditBroken(f"evidence store: '{sha256[:70]}' is not a SHA-256 digest")
        return Path(self.root) / "sha256" / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store `data` (once), return its digest. A file already there with other
        bytes under this name (changed behind our back) is replaced by the true ones."""
        sha = digest_of(data)
        target = self.path_of(sha)
        if self.check(sha) is None:
            return sha
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())  # the row naming it commits next: the bytes must be there
                os.chmod(tmp, 0o444)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise Misconfigured(f"evidence store {self.root}: cannot write: {e.strerror or e}") from None
        return sha

    def check(self, sha256: str) -> str | None:
        """None when the file is there with exactly these bytes, else why not."""
        path = self.path_of(sha256)
        try:
            h = hashlib.sha256()
            with open(path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
        except FileNotFoundError:
            return "the stored file is missing"
        except IsADirectoryError:
            return "the stored file is not a file"
        except OSError as e:
            return f"the stored file cannot be read ({e.strerror or e})"
        if h.hexdigest() != sha256:
            return f"the stored file was changed (its content hashes to {h.hexdigest()[:12]}…)"
        return None

    def read(self, sha256: str, *, what: str) -> bytes:
        """The file's bytes, checked against the digest: a changed or missing file is
        never handed out as evidence (AuditBroken naming `what`)."""
        path = self.path_of(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise AuditBroken(f"{what}: the stored file is missing; run 'rectify audit verify'") from None
        except OSError as e:
            raise AuditBroken(f"{what}: the stored file cannot be read ({e.strerror or e})") from None
        if digest_of(data) != sha256:
            raise AuditBroken(f"{what}: the stored file was changed (its SHA-256 is not {sha256[:12]}…); "
                              f"run 'rectify audit verify'")
        return data
