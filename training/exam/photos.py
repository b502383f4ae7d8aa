"""The exam's synthetic photos, made from a London person's rest and smile photos.

- `reencode`: the same photo measured twice (75 % size, a few pixels cropped, JPEG 70);
- `failed_smile`: the smiling photo with one side's lips and mouth corner warped back toward
  their resting position (a share `strength` of the way);
- `raised_brows`: the neutral photo with both brows, or one brow, warped up by `BROW_RAISE`;
- camera changes between rest and smile (`CAMERA`): a phone held nearer (the middle of the face
  magnified against its rim, as at 25 instead of 40 cm), tilted +-10 degrees, tipped back
  (keystone), other light, a hand over the forehead, and nearer + tilted + other light together.

The warps move the content around each moved point by its whole displacement
(`training.synth.warp`; `tests/training/synth/test_warp.py` tracks it).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw

from model.face.landmarks import IRIS_CENTRE
from training.synth import MESH, MESH_ANCHORS
from training.synth.palsy import Pair, moves
from training.synth.warp import bilinear

BROW_RAISE = 0.12  # IPD (~7.5 mm): a clear but ordinary brow raise
# Upper-face points that a smile barely moves: the rest -> smile alignment.
STABLE = (33, 133, 263, 362, 168, 6, 197, 195, 5, 4, 1, 2, 10, 151, 9, 8)


def reencode(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as source:
        im = source.convert("RGB")
        w, h = im.size
        small = im.resize((w * 3 // 4, h * 3 // 4)).crop((10, 5, w * 3 // 4 - 3, h * 3 // 4 - 8))
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def jpeg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def _similarity(src: np.ndarray, dst: np.ndarray) -> tuple[complex, complex]:
    """Least-squares z -> a z + b mapping src onto dst (points as complex numbers)."""
    s, d = src[:, 0] + 1j * src[:, 1], dst[:, 0] + 1j * dst[:, 1]
    sc, dc = s - s.mean(), d - d.mean()
    a = (np.conj(sc) @ dc) / (np.conj(sc) @ sc)
    return a, d.mean() - a * s.mean()


def failed_smile(rgb: np.ndarray, smile_mesh: np.ndarray, rest_mesh: np.ndarray, image_side: int,
                 strength: float) -> np.ndarray:  # fmt: skip
    """The smiling photo with one image side's mouth moved `strength` of the way back to rest."""
    a, b = _similarity(rest_mesh[list(STABLE), :2], smile_mesh[list(STABLE), :2])
    groups: dict[str, Pair] = {}
    moved: dict[str, Pair] = {}
    for name in ("mouth_corner", "lip"):
        sides = (smile_mesh[list(MESH[name][0]), :2], smile_mesh[list(MESH[name][1]), :2])
        z = (
            rest_mesh[list(MESH[name][image_side]), 0]
            + 1j * rest_mesh[list(MESH[name][image_side]), 1]
        )
        home = a * z + b
        back = sides[image_side] + strength * (
            np.stack([home.real, home.imag], axis=1) - sides[image_side]
        )
        groups[name] = sides
        moved[name] = (back, sides[1]) if image_side == 0 else (sides[0], back)
    ipd = float(np.linalg.norm(smile_mesh[IRIS_CENTRE[1], :2] - smile_mesh[IRIS_CENTRE[0], :2]))
    return moves(smile_mesh[list(MESH_ANCHORS), :2], groups, moved, ipd).warp(rgb)


def raised_brows(rgb: np.ndarray, mesh: np.ndarray, image_sides: Sequence[int]) -> np.ndarray:
    ipd = float(np.linalg.norm(mesh[IRIS_CENTRE[1], :2] - mesh[IRIS_CENTRE[0], :2]))
    sides = (mesh[list(MESH["brow"][0]), :2], mesh[list(MESH["brow"][1]), :2])
    up = np.array([0.0, BROW_RAISE * ipd])
    raised = (
        sides[0] - up if 0 in image_sides else sides[0],
        sides[1] - up if 1 in image_sides else sides[1],
    )
    pupils = mesh[list(IRIS_CENTRE), :2]
    return moves(mesh[list(MESH_ANCHORS), :2], {"brow": sides}, {"brow": raised}, ipd,
                 pupils).warp(rgb)  # fmt: skip


def nearer(rgb: np.ndarray, mesh: np.ndarray, gain: float = 0.06) -> np.ndarray:
    """The photo as from a phone held nearer (25 instead of 40 cm): the nose, ~3 cm in front of
    the eyes, grows ~6 % against the face's rim. A radial warp about the nose tip that fades
    over about an inter-pupil distance."""
    h, w = rgb.shape[:2]
    ipd = float(np.linalg.norm(mesh[IRIS_CENTRE[1], :2] - mesh[IRIS_CENTRE[0], :2]))
    cx, cy = mesh[1, :2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    dx, dy = xx - cx, yy - cy
    shrink = 1.0 / (1.0 + gain * np.exp(-(dx * dx + dy * dy) / (0.8 * ipd) ** 2))
    out = bilinear(rgb, cx + dx * shrink, cy + dy * shrink)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def tilted(rgb: np.ndarray, degrees: float) -> np.ndarray:
    image = Image.fromarray(rgb)
    return np.asarray(image.rotate(degrees, Image.Resampling.BILINEAR, fillcolor=(128, 128, 128)))


def relit(rgb: np.ndarray, strength: float = 0.5) -> np.ndarray:
    """Light from one side, a little dimmer overall."""
    ramp = np.linspace(1 - strength / 2, 1 + strength / 2, rgb.shape[1])[None, :, None]
    return np.clip(rgb * ramp * 0.9, 0, 255).astype(np.uint8)


def keystone(rgb: np.ndarray, tip: float = 0.08) -> np.ndarray:
    """The phone tipped back: the top of the picture narrower than the bottom."""
    h, w = rgb.shape[:2]
    corners = ((w * tip, 0), (w * (1 - tip), 0), (w, h), (0, h))
    rows = []
    for (x, y), (u, v) in zip(corners, ((0, 0), (w, 0), (w, h), (0, h)), strict=True):
        rows += [([x, y, 1, 0, 0, 0, -u * x, -u * y], u), ([0, 0, 0, x, y, 1, -v * x, -v * y], v)]
    a = np.array([r for r, _ in rows], float)
    coeffs = np.linalg.solve(a, np.array([b for _, b in rows], float))
    grey = (128, 128, 128)
    image = Image.fromarray(rgb).transform(
        (w, h),
        Image.Transform.PERSPECTIVE,
        tuple(coeffs),
        Image.Resampling.BILINEAR,
        fillcolor=grey,
    )
    return np.asarray(image)


def forehead_hand(rgb: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """A skin-coloured hand (or hair) over the forehead, down to just above the brows."""
    image = Image.fromarray(rgb.copy())
    ipd = float(np.linalg.norm(mesh[IRIS_CENTRE[1], :2] - mesh[IRIS_CENTRE[0], :2]))
    top, brow_y = mesh[10, :2], float(mesh[[70, 300], 1].min())
    box = (top[0] - 1.2 * ipd, top[1] - 0.6 * ipd, top[0] + 0.9 * ipd, brow_y - 0.15 * ipd)
    ImageDraw.Draw(image).ellipse(box, fill=(200, 150, 120))
    return np.asarray(image)


CAMERA: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "nearer": nearer,
    "tilt +10": lambda rgb, mesh: tilted(rgb, 10),
    "tilt -10": lambda rgb, mesh: tilted(rgb, -10),
    "other light": lambda rgb, mesh: relit(rgb),
    "tipped back": lambda rgb, mesh: keystone(rgb),
    "hand on forehead": forehead_hand,
    "nearer, tilted, other light": lambda rgb, mesh: relit(tilted(nearer(rgb, mesh), 8)),
}
