"""Bases and cases: cut-free stretches of real and generated clips (``bases.csv``), and every
(base, kind) case rendered once to H.264 with its labels, in a work folder outside the
repository. A case is rendered again only when its recipe (injector code, base row, seed)
changes."""

from __future__ import annotations

import csv
import hashlib
import inspect
import json
import multiprocessing
import os
import re
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from benchmarks.accuracy import inject as injectors
from benchmarks.accuracy import inject_bodies
from benchmarks.accuracy.inject import KINDS, LEG_KINDS, PEOPLE_KINDS, Scene, draw

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BASES_CSV = HERE / "bases.csv"
SHARED_CLIPS = Path(os.environ.get("VIDLINT_SHARED_CLIPS", REPO.parent / "shared" / "clips"))
SHORT_SIDE = 480
"""Bases are scaled down to this short side at most: the benchmark runs many cases."""
CRF = 16
"""x264 quality: high, so that the encoding adds little of its own to what was injected."""


@dataclass(frozen=True)
class Base:
    name: str
    clip: str
    start: int
    end: int
    split: str
    origin: str
    reason: str
    people: str = ""
    """"legs" or "arms" for a base with people in plain view (whole bodies, or arms only): it
    gets every kind, and the kinds of ``PEOPLE_KINDS`` that its people can host."""
    known: str = ""
    """Codes the base's own footage rightly carries (comma-separated), e.g. TMP002 on footage
    with frame-rate conversion repeats: on its cases they are neither a hit nor false."""


def load_bases(path: Path = BASES_CSV) -> list[Base]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [Base(**{**r, "start": int(r["start"]), "end": int(r["end"])}) for r in rows]


def fitted_size(width: int, height: int, short_side: int = SHORT_SIDE) -> tuple[int, int]:
    """The size with the short side at most ``short_side``, both sides even (yuv420p)."""
    scale = min(1.0, short_side / min(width, height))
    return 2 * round(width * scale / 2), 2 * round(height * scale / 2)


def decode_base(base: Base, clips: Path = SHARED_CLIPS) -> tuple[np.ndarray, float]:
    """The base's frames (T, H, W, 3) RGB, scaled to ``fitted_size``, and the clip's fps."""
    frames = []
    with av.open(str(clips / base.clip)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        for index, picture in enumerate(container.decode(stream)):
            if index > base.end:
                break
            if index >= base.start:
                rgb = picture.to_ndarray(format="rgb24")
                size = fitted_size(rgb.shape[1], rgb.shape[0])
                if size != (rgb.shape[1], rgb.shape[0]):
                    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
                frames.append(rgb)
    if len(frames) != base.end - base.start + 1:
        raise ValueError(f"{base.clip}: has {len(frames)} of frames {base.start}-{base.end}")
    return np.stack(frames), fps


def cover(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """``frames`` cropped to the aspect of (width, height) about their centre, then scaled."""
    h, w = frames.shape[1:3]
    scale = max(width / w, height / h)
    cw, ch = round(width / scale), round(height / scale)
    x, y = (w - cw) // 2, (h - ch) // 2
    return np.stack([cv2.resize(f[y : y + ch, x : x + cw], (width, height)) for f in frames])


def encode(frames: np.ndarray, fps: float, path: Path) -> None:
    """H.264 yuv420p at ``CRF``, one thread (so the bytes do not depend on scheduling), written
    to a temporary file and renamed."""
    partial = path.with_name(path.stem + ".partial.mp4")
    with av.open(str(partial), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(CRF), "preset": "superfast", "threads": "1"}
        stream.thread_count = 1
        for rgb in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    partial.replace(path)


def decode_case(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def seed_words(seed: int, base: str, kind: str) -> list[int]:
    """The seed of ``kind`` on ``base``, as words (a test rebuilds a case from them)."""
    return [seed, zlib.crc32(base.encode()), zlib.crc32(kind.encode())]


def case_seed(seed: int, base: str, kind: str) -> np.random.Generator:
    return np.random.default_rng(seed_words(seed, base, kind))


def donor_of(base: Base, bases: list[Base]) -> Base:
    """The next base of the same split from another clip: content for cuts and dissolves."""
    same = [b for b in bases if b.split == base.split and bool(b.people) == bool(base.people)]
    start = same.index(base)
    for other in same[start + 1 :] + same[:start]:
        if other.clip != base.clip:
            return other
    raise ValueError(f"split {base.split} needs bases from two clips at least")


def assigned_kinds(base: Base, bases: list[Base], per_kind: int) -> list[str]:
    """The kinds injected into ``base``: clean on every base. A base with people gets every
    kind outside ``PEOPLE_KINDS`` and those of ``PEOPLE_KINDS`` its people can host (short clips
    of moving people are where generated artifacts hide best). The other bases get no kind of
    ``PEOPLE_KINDS``, and each other kind on ``per_kind`` of them in each split, taken in turn
    from its real and its generated bases and rotating with the kind (every base if
    ``per_kind`` is 0). The choice depends on the kind table and the bases only, so a filter
    does not change a case."""
    general = [k for k in KINDS if k not in PEOPLE_KINDS]
    if base.people:
        hosted = [k for k in PEOPLE_KINDS if base.people == "legs" or k not in LEG_KINDS]
        return [*general, *hosted]
    if per_kind <= 0:
        return general
    same = [b for b in bases if b.split == base.split and not b.people]
    pools = [[b.name for b in same if b.origin == o] for o in ("real", "generated")]
    pools = [pool for pool in pools if pool]
    rounds = -(-per_kind // len(pools))
    chosen = ["clean"]
    for k, kind in enumerate(k for k in KINDS if k != "clean" and k not in PEOPLE_KINDS):
        picked = {
            pool[(k * rounds + j // len(pools)) % len(pool)]
            for j, pool in ((j, pools[j % len(pools)]) for j in range(per_kind))
        }
        if base.name in picked:
            chosen.append(kind)
    return chosen


def recipe(base: Base, donor: Base, kind: str, seed: int) -> str:
    """A digest of what a case's pixels depend on: the injector's shared helpers and its own
    function and parameter ranges (so that a new or changed kind renders only its own cases),
    the decoding and encoding, the base, its donor and the seed."""
    source = inspect.getsource(injectors)
    helpers = re.split(r"^# --- kinds", source, maxsplit=1, flags=re.MULTILINE)[0]
    sources = [helpers, inspect.getsource(KINDS[kind].inject), repr(KINDS[kind].params)]
    if kind in PEOPLE_KINDS:
        sources.append(inspect.getsource(inject_bodies))
    sources += [inspect.getsource(f) for f in (fitted_size, decode_base, cover, encode)]
    payload = json.dumps([sources, SHORT_SIDE, CRF, row(base), row(donor), kind, seed])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def row(base: Base) -> dict[str, Any]:
    """The base as the recipe reads it: a base without people as it read before the column;
    its known codes do not change a pixel."""
    fields = asdict(base)
    del fields["known"]
    if not fields["people"]:
        del fields["people"]
    return fields


def inject(frames: np.ndarray, fps: float, donor: np.ndarray, kind: str, rng) -> dict[str, Any]:
    """Apply ``kind`` to ``frames`` in place; returns its parameters and labels."""
    spec = KINDS[kind]
    params = draw(spec.params, rng)
    labels = spec.inject(Scene(frames, fps, rng, donor), params)
    return {"params": params, "labels": [label.to_dict() for label in labels]}


def expected_codes(kind: str, base: Base) -> dict[str, list[str]]:
    return {
        "codes": list(KINDS[kind].codes),
        "tolerated": list(KINDS[kind].tolerated),
        "known": [code for code in base.known.split(",") if code],
    }


def build_base(job: tuple[Base, Base, list[str], int, Path, Path]) -> list[dict[str, Any]]:
    """Render the cases of one base that are missing or stale; return all their labels."""
    base, donor_base, kinds, seed, work, clips = job
    cv2.setNumThreads(1)
    frames = fps = donor = None
    out = []
    for kind in kinds:
        name = f"{base.name}__{kind}"
        video, meta = work / "cases" / f"{name}.mp4", work / "cases" / f"{name}.json"
        key = recipe(base, donor_base, kind, seed)
        if video.is_file() and meta.is_file():
            known = json.loads(meta.read_text())
            if known.get("recipe") == key:
                out.append({**known, **expected_codes(kind, base)})  # the tables may change
                continue
        if frames is None:
            frames, fps = decode_base(base, clips)
            donor = cover(decode_base(donor_base, clips)[0], frames.shape[2], frames.shape[1])
        case = frames.copy()
        result = inject(case, fps, donor, kind, case_seed(seed, base.name, kind))
        video.parent.mkdir(parents=True, exist_ok=True)
        encode(case, fps, video)
        label = {
            "case": name,
            "base": base.name,
            "kind": kind,
            "split": base.split,
            "origin": base.origin,
            "donor": donor_base.name,
            "path": str(video),
            "fps": fps,
            "frames": len(case),
            "width": case.shape[2],
            "height": case.shape[1],
            "seed": seed,
            "recipe": key,
            "sha256": hashlib.sha256(video.read_bytes()).hexdigest(),
            **expected_codes(kind, base),
            **result,
        }
        meta.write_text(json.dumps(label, indent=1))
        out.append(label)
    return out


def build(
    bases: list[Base],
    kinds: list[str],
    work: Path,
    seed: int = 0,
    jobs: int = 2,
    clips: Path = SHARED_CLIPS,
    every_base: list[Base] | None = None,
    per_kind: int = 0,
) -> list[dict[str, Any]]:
    """Render (or reuse) the cases of ``kinds`` on ``bases`` (see ``assigned_kinds``); write and
    return the labels of all of them. Donors and assignments are chosen among ``every_base`` so
    that a filter on bases does not change a case."""
    every_base = every_base or load_bases()
    work_list = []
    for b in bases:
        chosen = [k for k in assigned_kinds(b, every_base, per_kind) if k in kinds]
        work_list.append((b, donor_of(b, every_base), chosen, seed, work, clips))
    if jobs <= 1 or len(work_list) == 1:
        done = map(build_base, work_list)
    else:  # spawned, not forked: a forked child can inherit a decoder's held lock
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            done = list(pool.map(build_base, work_list))
    cases = [case for made in done for case in made]
    (work / "labels.json").write_text(json.dumps(cases, indent=1))
    return cases
