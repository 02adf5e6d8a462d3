"""The SQLite files vidlint keeps state in (the regeneration loop's, the service's jobs): in WAL
mode with full syncs, so a commit outlives a kill -9; a file that is no such database is an
error naming it, not a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from vidlint.errors import InputError


def open_database(path: Path, tables: str, **options: Any) -> sqlite3.Connection:
    """Open (or create) ``path`` with ``tables`` (``CREATE TABLE IF NOT EXISTS`` statements);
    :class:`InputError` naming the file when it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), timeout=30, isolation_level=None, **options)
    except (OSError, sqlite3.Error) as exc:
        raise InputError(f"cannot be opened ({exc})", path) from None
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(tables)
    except sqlite3.Error as exc:
        db.close()
        raise InputError(
            f"not a vidlint database ({exc}); move it aside to start afresh", path
        ) from None
    return db
