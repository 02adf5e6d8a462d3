"""Atomic writes: a temp file in the same folder, then rename, so a crash never leaves a half
written report and never destroys the previous one. And JSON read back with a one-line error.

A temp file is named ``.<name>.<pid>.<random>.tmp``: what a killed process left behind is found
by its pid and removed by the next run (:func:`remove_stale_temps`)."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from vidlint import crashpoints
from vidlint.errors import InputError

TEMP_NAME = re.compile(r"^\..+\.(\d+)\.[a-z0-9_]+\.tmp$")


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)  # mkstemp's 0600 would hide reports from other users
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        crashpoints.reached(f"fileio.before-rename:{path.name}")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    crashpoints.reached(f"fileio.after-rename:{path.name}")
    return path


def remove_stale_temps(folder: str | Path, recursive: bool = False) -> int:
    """Delete the atomic-write temp files in ``folder`` whose writer is no longer running (it
    was killed between writing and renaming); returns how many."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for temp in folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp"):
        match = TEMP_NAME.match(temp.name)
        if match and not is_running(int(match.group(1))):
            temp.unlink(missing_ok=True)
            removed += 1
    return removed


def is_running(pid: int) -> bool:
    """Whether process ``pid`` exists (this one included)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | Path, data: Any) -> Path:
    return write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_json(path: str | Path) -> Any:
    """A JSON file's document; :class:`~vidlint.errors.InputError` naming the file and the
    cause (missing, unreadable, not JSON) otherwise."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read ({exc})", path) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON ({exc.msg} at line {exc.lineno})", path) from None
