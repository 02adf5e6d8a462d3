"""SRC: a source image that image-to-video will only make worse (pre-flight).

These rules judge one still image, not frames: they read the source analyzer's output (the
:class:`~vidlint.analyzers.source.SourceMeasures` of the image) and report on frame 0. They run from
``vidlint check-source IMAGE`` and, for a clip with a reference image, inside ``vidlint check``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from vidlint.analyzers.source import SourceMeasures
from vidlint.rules.base import Fix, Hit, RuleInput, family, rule
from vidlint.settings import NoParams, param

family("SRC", "source image")

SOURCE_FIX = Fix(why="a weak source image: replace it; regenerating only reseeds")


@dataclass(frozen=True)
class BlurParams:
    min_sharpness: float = param(
        30.0,
        "90th percentile over an 8x8 tile grid of the Laplacian's variance (gray 0-255, "
        "short side at most 512 px). Sharp sources on the evaluation set score 48-1650; "
        "a 512 px photo blurred with sigma 2 scores 23, sigma 4 scores 4 (measured)",
    )


@rule(
    "SRC001",
    "blurry-source",
    severity="warning",
    requires=["source"],
    params=BlurParams,
    fix=SOURCE_FIX,
)
def blurry_source(data: RuleInput, p: BlurParams) -> Iterator[Hit]:
    """The source image is blurry.

    What it detects:
        Low high-frequency detail in the sharpest part of the image: the 90th percentile of
        per-tile Laplacian variance, so a sharp subject on a defocused background passes.
    Why it matters:
        Image-to-video keeps and animates what the source holds; a soft source gives a soft,
        smeary clip, and motion makes the blur more visible, not less.
    Known false positives:
        Deliberately soft images (fog, long exposure, a defocused whole frame by design) and
        flat graphics with little texture (logos, cartoons with large flat areas).
    Example:
        A portrait blurred with a Gaussian of sigma 2: ``SRC001 source image is blurry
        (sharpness 23.3 < 30)``.
    Thresholds:
        ``min_sharpness`` = 30 (measured on the evaluation set's sources and blurred copies).
    Fix hint:
        Use a sharper source (original file, not a screenshot or a thumbnail); sharpen it
        before generation.
    """
    m = data.output(SourceMeasures)
    if m.sharpness < p.min_sharpness:
        yield Hit(
            0,
            0,
            f"source image is blurry (sharpness {m.sharpness:.1f} < {p.min_sharpness:g})",
            confidence=min(1.0, 0.5 + (p.min_sharpness - m.sharpness) / p.min_sharpness),
            evidence={"sharpness": m.sharpness, "threshold": p.min_sharpness},
        )


@dataclass(frozen=True)
class SizeParams:
    max_upscale: float = param(
        1.5,
        "the generator may enlarge the source at most 1.5x to cover the target size; "
        "beyond that, interpolation visibly softens it (bicubic upscaling loses detail "
        "noticeably past about 1.5x)",
    )


@rule(
    "SRC002",
    "source-too-small",
    severity="warning",
    requires=["source"],
    params=SizeParams,
    fix=SOURCE_FIX,
)
def source_too_small(data: RuleInput, p: SizeParams) -> Iterator[Hit]:
    """The source image is too small for the output resolution.

    What it detects:
        The factor by which the source must be enlarged to cover the target frame (the clip's
        resolution in ``check``, ``--target`` in ``check-source``, default 1280x720).
    Why it matters:
        A small source is upscaled before generation: the clip inherits its softness and its
        upscaling artifacts at every frame.
    Known false positives:
        Generators that work at a low internal resolution and upscale their output anyway
        (then pass that internal resolution as ``--target``).
    Example:
        A 320x180 image for a 1280x720 clip: ``SRC002 source image 320x180 must be enlarged
        4.0x for 1280x720``.
    Thresholds:
        ``max_upscale`` = 1.5.
    Fix hint:
        Use a source at least as large as the output; generate or export it at full size.
    """
    m = data.output(SourceMeasures)
    if m.upscale > p.max_upscale:
        target = "x".join(map(str, m.target))
        yield Hit(
            0,
            0,
            f"source image {m.width}x{m.height} must be enlarged {m.upscale:.1f}x for {target}",
            confidence=min(1.0, 0.5 + (m.upscale - p.max_upscale) / p.max_upscale),
            evidence={
                "width": m.width,
                "height": m.height,
                "target": m.target,
                "upscale": m.upscale,
                "max_upscale": p.max_upscale,
            },
        )


@dataclass(frozen=True)
class NoiseParams:
    max_noise: float = param(
        4.0,
        "Immerkaer noise sigma (gray levels) on the flattest quarter of the image: clean "
        "sources on the evaluation set measure 0.02-1.4, a photo with sigma-15 grain 9.2 "
        "(measured); sigma 4 is visible grain on skin and sky",
    )
    max_blockiness: float = param(
        1.5,
        "mean step across 8x8 block boundaries over the step inside blocks: clean images "
        "measure 0.99-1.12, JPEG quality 10 gives 2.3 (measured)",
    )
    min_block_excess: float = param(
        1.0,
        "and the boundary steps must exceed the inside ones by 1 gray level: on a smooth "
        "sky a quality-75 JPEG has a high ratio (1.75) but blocks no one can see (excess 0.57)",
    )


@rule(
    "SRC003",
    "noisy-source",
    severity="warning",
    requires=["source"],
    params=NoiseParams,
    fix=SOURCE_FIX,
)
def noisy_source(data: RuleInput, p: NoiseParams) -> Iterator[Hit]:
    """The source image is noisy or heavily compressed.

    What it detects:
        Sensor noise or grain (Immerkaer's noise estimate on the image's flattest tiles) and
        JPEG blocking (steps at 8-pixel block boundaries larger than inside the blocks).
    Why it matters:
        Generators animate noise into crawling texture (boiling) and turn block edges into
        flickering grids.
    Known false positives:
        Deliberate film grain; fine regular textures (fabric, fences) aligned to an 8-pixel grid.
    Example:
        A JPEG saved at quality 10: ``SRC003 source image is heavily compressed (blockiness
        2.26 > 1.5)``.
    Thresholds:
        ``max_noise`` = 4.0, ``max_blockiness`` = 1.5 with ``min_block_excess`` = 1.0.
    Fix hint:
        Use the original (PNG or high-quality JPEG); denoise before generation; add noise and
        JPEG artifacts to the negative prompt.
    """
    m = data.output(SourceMeasures)
    if not m:
        return
    problems = []
    if m.noise > p.max_noise:
        problems.append(f"noisy: sigma {m.noise:.1f} > {p.max_noise:g}")
    if m.blockiness > p.max_blockiness and m.block_excess > p.min_block_excess:
        problems.append(f"heavily compressed: blockiness {m.blockiness:.2f} > {p.max_blockiness:g}")
    if problems:
        worst = max(m.noise / p.max_noise, m.blockiness / p.max_blockiness)
        yield Hit(
            0,
            0,
            "source image is " + "; ".join(problems),
            confidence=min(1.0, worst - 0.5),
            evidence={
                "noise": m.noise,
                "max_noise": p.max_noise,
                "blockiness": m.blockiness,
                "block_excess": m.block_excess,
                "max_blockiness": p.max_blockiness,
            },
        )


@dataclass(frozen=True)
class ClutterParams:
    min_concentration: float = param(
        0.28,
        "share of the image's saliency in its strongest region. Sources with a clear "
        "subject on the evaluation set measure 0.32-0.93 (busy stage and petal scenes "
        "0.32-0.34); a random clutter of shapes with no subject 0.20-0.23 (measured)",
    )


@rule(
    "SRC004",
    "cluttered-source",
    severity="info",
    requires=["source"],
    params=ClutterParams,
    fix=SOURCE_FIX,
)
def cluttered_source(data: RuleInput, p: ClutterParams) -> Iterator[Hit]:
    """The source image has no clear subject: attention is spread over many regions.

    What it detects:
        A spectral-residual saliency map (Hou & Zhang 2007) whose mass is spread over many
        separate regions, none of which holds ``min_concentration`` of it.
    Why it matters:
        With no subject that stands out from its background, the generator does not know what
        to animate: it moves everything a little (boiling clutter) or the wrong thing.
    Known false positives:
        Intentional wide shots (crowds, landscapes, patterns) where no single subject is
        wanted. Saliency is a cue, not a segmentation: the rule is ``info`` by default.
    Example:
        A random mosaic of textured shapes: ``SRC004 no clear subject (strongest region holds
        20% of the saliency, 18 regions)``.
    Thresholds:
        ``min_concentration`` = 0.28 (measured on the evaluation set's sources).
    Fix hint:
        Frame one subject against a simpler or defocused background; crop closer.
    """
    m = data.output(SourceMeasures)
    if m.saliency_concentration < p.min_concentration:
        yield Hit(
            0,
            0,
            f"no clear subject (strongest region holds "
            f"{m.saliency_concentration:.0%} of the saliency, {m.salient_regions} "
            "regions)",
            confidence=min(
                1.0, 0.5 + (p.min_concentration - m.saliency_concentration) / p.min_concentration
            ),
            evidence={
                "concentration": m.saliency_concentration,
                "regions": m.salient_regions,
                "threshold": p.min_concentration,
            },
        )


@rule(
    "SRC005",
    "source-image-missing",
    severity="info",
    fix=Fix(why="give the source image: --reference IMAGE, a manifest column or a sidecar"),
)
def source_image_missing(data: RuleInput, p: NoParams) -> Iterator[Hit]:
    """An image-to-video clip checked without its source image.

    What it detects:
        A clip whose mode is ``i2v`` (given, from a manifest or sidecar, or said by its file
        name, e.g. ``gen_i2v_...``) while no source image was found: no ``--reference``, no
        manifest or sidecar ``reference`` and no ``<clip>_source.png|jpg`` beside it.
    Why it matters:
        Without the source image the REF rules (first frame, identity, fidelity decay) and the
        other SRC rules cannot run: the clip is checked as if it were text-to-video, and a
        report that passes says nothing about faithfulness to the source.
    Known false positives:
        A file name that says ``i2v`` for another reason; set ``--mode t2v`` (or the mode in a
        manifest or sidecar) to check it as text-to-video without this note.
    Example:
        An image-to-video clip checked on its own: ``SRC005 image-to-video clip (its file name
        says i2v) without its source image: REF and SRC rules did not run``.
    Thresholds:
        None: it reads the context only.
    Fix hint:
        Give the source image: ``--reference IMAGE``, a ``reference`` column in the manifest,
        or ``<clip>_source.png`` beside the clip.
    """
    context = data.context
    if context.get("mode") == "i2v" and not context.get("reference"):
        said = "its file name says i2v" if context.get("mode_from") == "name" else "mode i2v"
        yield Hit(
            0,
            0,
            f"image-to-video clip ({said}) without its source image: REF and SRC rules did not run",
            confidence=0.9 if context.get("mode_from") == "name" else 1.0,
            evidence={"mode": "i2v", "mode_from": context.get("mode_from", "given")},
        )
