"""The service's jobs in SQLite beside the uploads, so a restart or a kill -9 loses none.

A job is written when it is accepted (before the client hears of it), when it starts, when it
ends (before its uploads are deleted) and as its webhook is delivered. On start the service
queues again the jobs that had not ended, delivers the webhooks still owed (with the same
``webhook-id``: receivers dedupe on it) and deletes the uploads no waiting job needs. One
service at a time owns a folder (a lock file says so).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from vidlint import crashpoints
from vidlint.database import open_database
from vidlint.errors import ConfigError, InputError
from vidlint.fileio import is_running

STORE_NAME = "jobs.sqlite"
LOCK_NAME = "jobs.lock"
UPLOAD_NAME = re.compile(r"^\.?[0-9a-f]{32}(_ref)?\.[a-z0-9]+(\.part)?$")
"""Uploads are named ``<job id>[_ref]<suffix>`` (``.<that>.part`` while they stream in)."""
PRIVATE_PREFIX = "vidlint-serve-"
TABLES = (
    "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, key TEXT UNIQUE, "
    "submitted REAL NOT NULL, record TEXT NOT NULL)"
)


def service_folder(upload_dir: str) -> tuple[Path, bool]:
    """The folder for uploads and the job store, and whether it outlives the service: the
    configured ``upload_dir``, or a private temp folder (jobs then end with the service).
    Private folders that a killed service left are removed."""
    if upload_dir:
        folder = Path(upload_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            cause = "not a folder" if isinstance(exc, FileExistsError) else exc.strerror
            raise ConfigError(f"'serve.upload_dir' = {upload_dir!r}: {cause}") from None
        return folder, True
    temp = Path(tempfile.gettempdir())
    for old in temp.glob(f"{PRIVATE_PREFIX}*-*"):
        pid = old.name[len(PRIVATE_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not is_running(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-")), False


def check_folder(upload_dir: str) -> None:
    """Open and close the job store in ``upload_dir``: a folder or store that cannot be used,
    or one another service holds, stops ``vidlint serve`` with one line before it starts."""
    JobStore(service_folder(upload_dir)[0]).close()


class JobStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = _lock(folder / LOCK_NAME)
        try:
            self.db = open_database(folder / STORE_NAME, TABLES, check_same_thread=False)
        except InputError:
            self._unlock()
            raise

    def save(self, record: dict[str, Any], key: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO jobs VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "record = excluded.record",
            (record["id"], key, record["submitted_at"], json.dumps(record, default=str)),
        )
        crashpoints.reached(f"serve.saved:{record['status']}")

    def records(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT record FROM jobs ORDER BY submitted, rowid").fetchall()
        return [json.loads(row[0]) for row in rows]

    def by_key(self, key: str) -> str | None:
        row = self.db.execute("SELECT id FROM jobs WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def forget(self, ids: list[str]) -> None:
        self.db.executemany("DELETE FROM jobs WHERE id = ?", [(i,) for i in ids])

    def remove_uploads(self, keep: set[Path]) -> None:
        """Delete every upload (and half-received one) but those in ``keep``."""
        for path in self.folder.iterdir():
            if UPLOAD_NAME.match(path.name) and path not in keep and path.is_file():
                path.unlink(missing_ok=True)

    def close(self) -> None:
        self.db.close()
        self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def _lock(path: Path) -> int | None:
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock
        return None
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConfigError(f"'serve.upload_dir' = {str(path.parent)!r}: {exc.strerror}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(handle)
        raise ConfigError(
            f"{path.parent}: another vidlint serve uses this upload folder (serve.upload_dir)"
        ) from None
    return handle
