"""What each clip of a batch was made from: prompt, negative prompt, seed, mode, source image and
generator, from a manifest (CSV or JSONL, one row per clip), a sidecar file beside the clip
(``<clip stem>.context.json``) and the options given for the whole batch.

For each key the most specific source wins: an option given on the command line (for every
clip), else the clip's sidecar, else its manifest row; then the source image sidecar
``<clip stem>_source.png|jpg|jpeg|webp``. The mode is the one given, else ``i2v`` when there is a
source image, else the one the file name says (``gen_i2v_...``: recorded as ``mode_from:
"name"``, so a report never calls such a clip text-to-video without saying why), else ``t2v``.
"""

from __future__ import annotations

import csv
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from vidlint.errors import InputError

CONTEXT_KEYS = ("prompt", "negative_prompt", "seed", "mode", "reference", "generator")
COLUMN_ALIASES = {
    "clip": ("clip", "file", "path", "video"),
    "negative_prompt": ("negative_prompt", "negative"),
    "reference": ("reference", "reference_image", "source_image", "source"),
}
"""Manifest columns (or JSONL keys) read for each key; other columns are ignored."""
MODES = ("t2v", "i2v")
SIDECAR_SUFFIX = ".context.json"
SOURCE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
NAME_MODES = {"i2v": "i2v", "img2vid": "i2v", "t2v": "t2v", "txt2vid": "t2v"}
"""Words of a file name that say how the clip was made (``gen_i2v_pia_boy.gif``)."""
MANIFEST_KEY = "manifest"
"""The batch context key holding the manifest's path (it never reaches a report)."""


def complete_context(path: Path, context: dict[str, Any]) -> dict[str, Any]:
    """The context of the clip at ``path``: ``context`` (the batch's options, possibly naming a
    manifest) completed from the manifest row, the sidecar and the source image sidecar."""
    given = {k: v for k, v in context.items() if v is not None and k != MANIFEST_KEY}
    merged: dict[str, Any] = {}
    if context.get(MANIFEST_KEY):
        merged.update(load_manifest(Path(context[MANIFEST_KEY])).row_for(path))
    merged.update(read_sidecar(path))
    merged.update(given)
    if not merged.get("reference"):
        for suffix in SOURCE_SUFFIXES:
            sidecar = path.with_name(f"{path.stem}_source{suffix}")
            if sidecar.is_file():
                merged["reference"] = str(sidecar)
                break
    if not merged.get("mode"):
        named = mode_in_name(path)
        if merged.get("reference"):
            merged["mode"] = "i2v"
        elif named:
            merged["mode"], merged["mode_from"] = named, "name"
        else:
            merged["mode"] = "t2v"
    return {k: v for k, v in merged.items() if v is not None}


def mode_in_name(path: Path) -> str | None:
    """The mode a file name says (a word such as ``i2v`` between ``_``, ``-`` or ``.``)."""
    for word in re.split(r"[_\-.\s]+", path.stem.lower()):
        if word in NAME_MODES:
            return NAME_MODES[word]
    return None


class Manifest:
    """The rows of a manifest by clip: by resolved path, and by file name when it is unique."""

    def __init__(self, path: Path, rows: list[tuple[int, dict[str, Any]]]) -> None:
        self.path = path
        self.by_path: dict[Path, dict[str, Any]] = {}
        self.by_name: dict[str, list[dict[str, Any]]] = {}
        for line, row in rows:
            clip = Path(row.pop("clip"))
            resolved = (path.parent / clip).resolve()
            if resolved in self.by_path:
                raise InputError(f"line {line}: clip {clip} is listed twice", path)
            self.by_path[resolved] = row
            self.by_name.setdefault(clip.name, []).append(row)

    def row_for(self, clip: Path) -> dict[str, Any]:
        """The clip's row ({} when the manifest does not list it)."""
        row = self.by_path.get(clip.resolve())
        if row is None:
            named = self.by_name.get(clip.name, [])
            row = named[0] if len(named) == 1 else {}
        return dict(row)


def load_manifest(path: Path) -> Manifest:
    """Read a manifest (``.csv`` with a header row, or ``.jsonl``/``.ndjson``); an
    :class:`InputError` naming the file and line when it cannot be used."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise InputError("manifest not found", path) from None
    except OSError as exc:
        raise InputError(f"cannot read the manifest ({exc.strerror or exc})", path) from exc
    return _load_manifest(path.resolve(), stat.st_mtime_ns, stat.st_size)


@cache
def _load_manifest(path: Path, mtime_ns: int, size: int) -> Manifest:
    """Parsed once per version of the file (every clip of a batch asks, twice)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the manifest ({exc})", path) from exc
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        records = _jsonl_records(text, path)
    elif path.suffix.lower() == ".csv":
        records = _csv_records(text, path)
    else:
        raise InputError("a manifest is a .csv or .jsonl file", path)
    rows = [(line, context_row(record, path, line)) for line, record in records]
    return Manifest(path, rows)


def _csv_records(text: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or not any(
        name.strip().lower() in COLUMN_ALIASES["clip"] for name in reader.fieldnames
    ):
        raise InputError(
            f"no clip column (one of {', '.join(COLUMN_ALIASES['clip'])}) in the header", path
        )
    return [(number + 2, record) for number, record in enumerate(reader)]


def _jsonl_records(text: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"line {number}: not JSON ({exc.msg})", path) from None
        if not isinstance(record, dict):
            raise InputError(f"line {number}: not a JSON object", path)
        records.append((number, record))
    return records


def context_row(record: dict[str, Any], path: Path, line: int | None = None) -> dict[str, Any]:
    """The context keys of one manifest row or sidecar, checked; a relative source image is
    relative to the file's folder. ``clip`` is kept for a manifest row."""
    where = f"line {line}: " if line is not None else ""
    fields = {str(k).strip().lower(): v for k, v in record.items() if k is not None}
    row: dict[str, Any] = {}
    for key in ("clip", *CONTEXT_KEYS) if line is not None else CONTEXT_KEYS:
        for name in COLUMN_ALIASES.get(key, (key,)):
            value = fields.get(name)
            if value not in (None, ""):
                row[key] = value.strip() if isinstance(value, str) else value
                break
    if line is not None and not row.get("clip"):
        raise InputError(f"{where}no clip named", path)
    if "seed" in row:
        try:
            row["seed"] = int(row["seed"])
        except (TypeError, ValueError):
            raise InputError(f"{where}seed {row['seed']!r} is not a whole number", path) from None
    if "mode" in row:
        row["mode"] = str(row["mode"]).lower()
        if row["mode"] not in MODES:
            raise InputError(f"{where}mode {row['mode']!r} is not one of {', '.join(MODES)}", path)
    if "reference" in row:
        reference = path.parent / str(row["reference"])
        if not reference.is_file():
            raise InputError(f"{where}source image {row['reference']} not found", path)
        row["reference"] = str(reference)
    for key in ("prompt", "negative_prompt", "generator"):
        if key in row:
            row[key] = str(row[key])
    return row


def read_sidecar(clip: Path) -> dict[str, Any]:
    """``<clip stem>.context.json`` beside the clip ({} when there is none)."""
    path = clip.with_name(clip.stem + SIDECAR_SUFFIX)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the context sidecar ({exc})", path) from exc
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"context sidecar is not JSON ({exc.msg})", path) from None
    if not isinstance(record, dict):
        raise InputError("context sidecar is not a JSON object", path)
    return context_row(record, path)
