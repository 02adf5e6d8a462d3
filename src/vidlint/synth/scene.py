"""A procedural world to film: a textured background larger than the frame (so the camera can pan
and zoom over it) and textured objects moving on known trajectories. Deterministic per seed."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np


def texture(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Colour noise at several scales plus a few hard-edged shapes: enough texture everywhere
    for optical flow and block matching to lock onto, like a real photograph."""
    image = np.zeros((height, width, 3), np.float32)
    for scale, weight in ((64, 0.55), (16, 0.3), (4, 0.15)):
        small = rng.random((max(2, height // scale), max(2, width // scale), 3)).astype(np.float32)
        image += weight * cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    image = np.clip(image * 255, 0, 255).astype(np.uint8)
    for _ in range(max(4, height * width // 6000)):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(4, max(6, min(height, width) // 10)))
        if rng.random() < 0.5:
            cv2.rectangle(image, (x, y), (x + size, y + size // 2), colour, -1)
        else:
            cv2.circle(image, (x, y), size // 2, colour, -1, lineType=cv2.LINE_AA)
    return image


@dataclass
class Sprite:
    """A textured disc moving as ``position(t) = start + velocity*t + 0.5*acceleration*t^2``."""

    patch: np.ndarray
    mask: np.ndarray
    start: np.ndarray
    velocity: np.ndarray
    acceleration: np.ndarray = field(default_factory=lambda: np.zeros(2))

    def position(self, t: float) -> np.ndarray:
        return self.start + self.velocity * t + 0.5 * self.acceleration * t * t


@dataclass
class Scene:
    width: int
    height: int
    seed: int = 0
    camera: str = "pan"
    """``static``, ``pan`` (left to right, then on), or ``zoom`` (slow push in)."""
    motion: float = 1.0
    objects: int = 3
    sprites: list[Sprite] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self.margin = 0.25
        self.world = texture(
            int(self.height * (1 + 2 * self.margin)), int(self.width * (1 + 2 * self.margin)), rng
        )
        if not self.sprites:
            self.sprites = [self._sprite(rng) for _ in range(self.objects)]

    def _sprite(self, rng: np.random.Generator) -> Sprite:
        radius = int(min(self.width, self.height) * rng.uniform(0.08, 0.14))
        patch = texture(2 * radius + 1, 2 * radius + 1, rng)
        cv2.line(patch, (0, radius), (2 * radius, radius), (255, 255, 255), 2)
        mask = np.zeros((2 * radius + 1, 2 * radius + 1), np.float32)
        cv2.circle(mask, (radius, radius), radius, 1.0, -1, lineType=cv2.LINE_AA)
        start = np.array(
            [rng.uniform(0.2, 0.8) * self.width, rng.uniform(0.25, 0.75) * self.height]
        )
        speed = min(self.width, self.height) * 0.12 * self.motion
        angle = rng.uniform(0, 2 * np.pi)
        return Sprite(patch, mask, start, speed * np.array([np.cos(angle), np.sin(angle)]))

    def camera_matrix(self, t: float) -> np.ndarray:
        """World -> frame affine transform at time t."""
        mx, my = self.margin * self.width, self.margin * self.height
        scale, tx, ty = 1.0, -mx, -my
        if self.camera == "pan":
            tx += -0.9 * mx * np.sin(0.35 * t * self.motion)
        elif self.camera == "zoom":
            scale = 1.0 + 0.04 * t * self.motion
            cx, cy = self.width / 2 + mx, self.height / 2 + my
            tx, ty = self.width / 2 - scale * cx, self.height / 2 - scale * cy
        return np.array([[scale, 0, tx], [0, scale, ty]], np.float32)

    def render(
        self,
        t: float,
        hidden: frozenset[int] = frozenset(),
        offsets: dict[int, np.ndarray] | None = None,
    ) -> np.ndarray:
        """The frame at time t (RGB uint8). ``hidden`` sprites are not drawn; ``offsets`` shift
        a sprite's position (for injected jumps)."""
        frame = cv2.warpAffine(
            self.world,
            self.camera_matrix(t),
            (self.width, self.height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
        for number, sprite in enumerate(self.sprites):
            if number in hidden:
                continue
            position = self.bounce(sprite.position(t))
            if offsets and number in offsets:
                position = position + offsets[number]
            paste(frame, sprite.patch, sprite.mask, position)
        return frame

    def bounce(self, position: np.ndarray) -> np.ndarray:
        """Reflect a position into the frame so objects stay in view."""
        size = np.array([self.width, self.height], np.float64)
        folded = np.mod(position, 2 * size)
        return np.where(folded > size, 2 * size - folded, folded)


def paste(frame: np.ndarray, patch: np.ndarray, mask: np.ndarray, centre: np.ndarray) -> None:
    """Alpha-blend ``patch`` centred at a sub-pixel ``centre`` (in place)."""
    height, width = frame.shape[:2]
    ph, pw = mask.shape
    x0, y0 = int(np.floor(centre[0])) - pw // 2, int(np.floor(centre[1])) - ph // 2
    fx, fy = float(centre[0] - np.floor(centre[0])), float(centre[1] - np.floor(centre[1]))
    shift = np.array([[1, 0, fx], [0, 1, fy]], np.float32)
    patch = cv2.warpAffine(patch, shift, (pw, ph), borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.warpAffine(mask, shift, (pw, ph))
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(width, x0 + pw), min(height, y0 + ph)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    px0, py0 = fx0 - x0, fy0 - y0
    alpha = mask[py0 : py0 + fy1 - fy0, px0 : px0 + fx1 - fx0, None]
    region = frame[fy0:fy1, fx0:fx1].astype(np.float32)
    source = patch[py0 : py0 + fy1 - fy0, px0 : px0 + fx1 - fx0].astype(np.float32)
    frame[fy0:fy1, fx0:fx1] = (alpha * source + (1 - alpha) * region).astype(np.uint8)
