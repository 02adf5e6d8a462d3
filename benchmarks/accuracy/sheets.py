"""Contact sheets: for each kind, a few rendered cases side by side with their clean twin, at
frames around the labelled span, the labelled region outlined. For looking, not for scoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from benchmarks.accuracy.cases import decode_case

TILE_WIDTH = 240


def moments(label: dict[str, Any], count: int) -> list[int]:
    """Frames to show: one before the span, its start, middle and end, and one after."""
    start, end = label["start"], label["end"]
    picks = [start - 1, start, (start + end) // 2, end, end + 1]
    return sorted({min(max(i, 0), count - 1) for i in picks})


def tile(frame: np.ndarray, text: str, region: list[float] | None) -> np.ndarray:
    height = round(frame.shape[0] * TILE_WIDTH / frame.shape[1])
    out = cv2.resize(frame, (TILE_WIDTH, height), interpolation=cv2.INTER_AREA)
    if region:
        x, y, w, h = region
        top_left = (round(x * TILE_WIDTH), round(y * height))
        bottom_right = (round((x + w) * TILE_WIDTH), round((y + h) * height))
        cv2.rectangle(out, top_left, bottom_right, (255, 64, 64), 1)
    cv2.putText(out, text, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1)
    return out


def sheet(case: dict[str, Any], twin: dict[str, Any] | None) -> np.ndarray:
    """Two rows per label: the case, and its clean twin at the same frames."""
    frames = decode_case(Path(case["path"]))
    clean = decode_case(Path(twin["path"])) if twin else None
    rows = []
    for label in case["labels"][:3]:
        picks = moments(label, len(frames))
        in_span = [label["start"] <= i <= label["end"] for i in picks]
        rows.append(
            [
                tile(frames[i], f"{case['case']} {i}{' *' if inside else ''}", label["region"])
                for i, inside in zip(picks, in_span, strict=True)
            ]
        )
        if clean is not None:
            rows.append([tile(clean[i], f"clean {i}", None) for i in picks])
    width = max(len(r) for r in rows)
    blank = np.zeros_like(rows[0][0])
    return np.vstack([np.hstack(r + [blank] * (width - len(r))) for r in rows])


def write_sheets(cases: list[dict[str, Any]], folder: Path, per_kind: int = 3) -> list[Path]:
    """One PNG per kind with up to ``per_kind`` of its cases, spread over the bases."""
    folder.mkdir(parents=True, exist_ok=True)
    twins = {c["base"]: c for c in cases if c["kind"] == "clean"}
    written = []
    for kind in sorted({c["kind"] for c in cases} - {"clean"}):
        of_kind = [c for c in cases if c["kind"] == kind and c["labels"]]
        chosen = of_kind[:: max(1, len(of_kind) // per_kind)][:per_kind]
        if not chosen:
            continue
        parts = [sheet(c, twins.get(c["base"])) for c in chosen]
        width = max(p.shape[1] for p in parts)
        padded = [np.pad(p, ((0, 4), (0, width - p.shape[1]), (0, 0))) for p in parts]
        path = folder / f"{kind}.png"
        cv2.imwrite(str(path), cv2.cvtColor(np.vstack(padded), cv2.COLOR_RGB2BGR))
        written.append(path)
    return written
