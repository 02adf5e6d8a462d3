"""The loop's state in SQLite: every job, attempt, request, backend response, report and file
hash, written before and after each step, so a killed run resumes where it stopped.

An attempt moves ``planned -> submitting -> submitted -> fetched -> checked`` (or ``failed``).
Its request, with the idempotency key, is committed in ``planned`` before anything is sent; a
run that finds an attempt in ``submitting`` re-sends the same key, which the backend protocol
requires to be idempotent, and one in ``submitted`` only polls.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidlint import crashpoints
from vidlint.database import open_database

SCHEMA_VERSION = 1
PLANNED, SUBMITTING, SUBMITTED, FETCHED, CHECKED, FAILED = (
    "planned",
    "submitting",
    "submitted",
    "fetched",
    "checked",
    "failed",
)

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    job TEXT PRIMARY KEY, clip TEXT NOT NULL, clip_sha256 TEXT NOT NULL,
    backend TEXT NOT NULL, context TEXT NOT NULL, status TEXT NOT NULL,
    final_attempt INTEGER, final_path TEXT, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (
    job TEXT NOT NULL, attempt INTEGER NOT NULL, kind TEXT NOT NULL,
    idempotency_key TEXT UNIQUE, request TEXT, status TEXT NOT NULL,
    backend_job_id TEXT, response TEXT, job_status TEXT, output_path TEXT,
    output_sha256 TEXT, report TEXT, verdict TEXT, score INTEGER, error TEXT,
    prompt_lint TEXT, started REAL NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (job, attempt));
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, attempt INTEGER,
    time REAL NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL);
"""
JSON_COLUMNS = ("request", "response", "job_status", "report", "prompt_lint", "context")


@dataclass
class Attempt:
    job: str
    attempt: int
    kind: str
    status: str
    idempotency_key: str | None = None
    request: dict[str, Any] | None = None
    backend_job_id: str | None = None
    response: dict[str, Any] | None = None
    job_status: dict[str, Any] | None = None
    output_path: str | None = None
    output_sha256: str | None = None
    report: dict[str, Any] | None = None
    verdict: str | None = None
    score: int | None = None
    error: str | None = None
    prompt_lint: list[Any] | None = None


class StateStore:
    """One SQLite file per work folder. Each write is its own committed transaction, or part of
    the one :meth:`transaction` opens (a state change and the event that tells of it)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = open_database(self.path, _TABLES)
        self.db.row_factory = sqlite3.Row
        self.db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        self._pending: list[str] | None = None

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit every write inside the block together, or none of them (a block inside
        another joins it)."""
        if self._pending is not None:
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._pending = []
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
            crashpoints.reached("state." + "+".join(self._pending))
        finally:
            self._pending = None

    def _write(self, step: str, sql: str, params: Any) -> None:
        self.db.execute(sql, params)
        if self._pending is None:
            crashpoints.reached(f"state.{step}")
        else:
            self._pending.append(step)

    # -- jobs ---------------------------------------------------------------------------------
    def job(self, job: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM jobs WHERE job = ?", (job,)).fetchone()
        return _decode(row) if row else None

    def create_job(
        self, job: str, clip: str, sha256: str, backend: str, context: dict[str, Any]
    ) -> None:
        now = time.time()
        self._write(
            "create_job",
            "INSERT OR IGNORE INTO jobs VALUES (?, ?, ?, ?, ?, 'running', NULL, NULL, ?, ?)",
            (job, clip, sha256, backend, json.dumps(context, default=str), now, now),
        )

    def finish_job(
        self, job: str, status: str, final_attempt: int | None, final_path: str | None
    ) -> None:
        self._write(
            "finish_job",
            "UPDATE jobs SET status = ?, final_attempt = ?, final_path = ?, "
            "updated = ? WHERE job = ?",
            (status, final_attempt, final_path, time.time(), job),
        )

    # -- attempts -----------------------------------------------------------------------------
    def attempts(self, job: str) -> list[Attempt]:
        rows = self.db.execute(
            "SELECT * FROM attempts WHERE job = ? ORDER BY attempt", (job,)
        ).fetchall()
        return [_attempt(row) for row in rows]

    def add_attempt(
        self,
        job: str,
        attempt: int,
        kind: str,
        status: str,
        request: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        now = time.time()
        self._write(
            "add_attempt",
            "INSERT INTO attempts (job, attempt, kind, idempotency_key, request, status, "
            "started, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job,
                attempt,
                kind,
                idempotency_key,
                json.dumps(request, default=str) if request is not None else None,
                status,
                now,
                now,
            ),
        )

    def update_attempt(self, job: str, attempt: int, **values: Any) -> None:
        columns = []
        params: list[Any] = []
        for key, value in values.items():
            columns.append(f"{key} = ?")
            params.append(
                json.dumps(value, default=str)
                if key in JSON_COLUMNS and value is not None
                else value
            )
        columns.append("updated = ?")
        params += [time.time(), job, attempt]
        self._write(
            "update_attempt",
            f"UPDATE attempts SET {', '.join(columns)} WHERE job = ? AND attempt = ?",
            params,
        )

    def event(self, job: str, attempt: int | None, kind: str, detail: str) -> None:
        self._write(
            "event",
            "INSERT INTO events (job, attempt, time, kind, detail) VALUES (?, ?, ?, ?, ?)",
            (job, attempt, time.time(), kind, detail),
        )

    def events(self, job: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT attempt, time, kind, detail FROM events WHERE job = ? ORDER BY id", (job,)
        ).fetchall()
        return [dict(row) for row in rows]


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    data = dict(row)
    for key in JSON_COLUMNS:
        if data.get(key) is not None:
            data[key] = json.loads(data[key])
    return data


def _attempt(row: sqlite3.Row) -> Attempt:
    data = _decode(row)
    data.pop("started", None)
    data.pop("updated", None)
    return Attempt(**data)
