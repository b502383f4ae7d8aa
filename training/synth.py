"""Synthetic facial-palsy set built from the London faces (healthy, consenting adults, CC BY 4.0).

For each person and each photo (neutral, smiling) we write `normal` plus the paper's six classes.
Palsy is simulated on ONE side of the face (image-left or image-right, at random) by moving
landmarks and warping the image with `training.warp`:

- eye classes: the upper lid rises, the lower lid drops (wider palpebral fissure, as in
  lagophthalmos and lower-lid ectropion), the skin below the eye follows the lower lid by half, and
  the brow drops;
- mouth classes: the mouth corner drops and moves slightly towards the midline; the lip contours
  on that side follow it (more near the corner) and are flattened towards their centre line.

All displacements are in units of the inter-pupil distance (IPD); every number is in `Settings`
(`SETTINGS`), which the model card (training/model_card.py) prints. Every image, `normal`
included, gets a small independent jitter on both sides (natural asymmetry) and goes through
the same warp, so the warp's resampling itself carries no label. Control points come from the
hand-placed .tem templates for neutral photos and from model/'s landmark model for smiling photos
(they have no template).

Then each image gets a random background (the studio grey is keyed out), framing (scale, shift,
small rotation), lighting, colour, optional occluders (glasses, a hand at the chin), blur, noise and
JPEG quality, so the classifier cannot learn studio artefacts. No TensorFlow here.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from model.labels import NORMAL, PAPER_CLASSES, parse_label
from model.landmarks import IRIS_CENTRE
from training.tem import read_tem
from training.warp import warp_image

CLASSES: tuple[str, ...] = (*PAPER_CLASSES, NORMAL)

Ranges = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Settings:
    """Every number that shapes the synthetic set; the model card prints these same numbers.

    Displacements are in IPD units. `severity`: eye (upper lid rise, lower lid drop, brow drop),
    mouth (corner drop, flattening fraction); gaps between severities keep the labels apart.
    """

    work_size: int = 512  # generated images are work_size x work_size
    severity: dict[str, dict[str, Ranges]] = field(
        default_factory=lambda: {
            "eye": {
                "mild": ((0.025, 0.035), (0.060, 0.090), (0.080, 0.120)),
                "moderate": ((0.045, 0.060), (0.110, 0.150), (0.150, 0.200)),
                "severe": ((0.070, 0.090), (0.170, 0.220), (0.240, 0.300)),
            },
            "mouth": {
                "mild": ((0.070, 0.100), (0.30, 0.45)),
                "moderate": ((0.130, 0.180), (0.50, 0.65)),
                "severe": ((0.220, 0.300), (0.70, 0.90)),
            },
        }
    )
    jitter_ipd: float = 0.006  # natural asymmetry: per-group random shift on both sides
    medial_shift: float = 0.25  # the drooping corner moves this fraction of its drop medially
    outer_corner_follows: float = 0.3  # of the lower lid's drop
    under_eye_follows: float = 0.5  # of the lower lid's drop
    # Appearance: framing, occluders, degradation (chances are per image).
    scale: tuple[float, float] = (0.8, 1.15)
    shift: float = 0.06  # of the image size, each axis
    rotation_deg: float = 8.0
    glasses: float = 0.2
    hand: float = 0.12
    blur: float = 0.5
    noise: float = 0.5
    jpeg_quality: tuple[int, int] = (40, 95)


SETTINGS = Settings()
# The names the rest of the project (and its tests) use.
WORK_SIZE = SETTINGS.work_size
SEVERITY = SETTINGS.severity
JITTER_IPD = SETTINGS.jitter_ipd
MEDIAL_SHIFT = SETTINGS.medial_shift

ATTRIBUTION = (
    "Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0, "
    "https://doi.org/10.6084/m9.figshare.5047666.v5. Modified: cropped, resized, warped "
    "(synthetic palsy), recoloured, composited."
)

# --- control points --------------------------------------------------------------------------

# .tem indices per image side (0 = image-left, 1 = image-right); see London README.
TEM = {
    "upper_lid": ((19, 20, 21), (24, 25, 26)),
    "lower_lid": ((28, 29, 30), (31, 32, 33)),
    "outer_corner": ((18,), (27,)),
    "under_eye": ((44, 45, 46), (47, 48, 49)),
    "brow": ((71, 72, 73, 74, 75, 76, 83, 84), (77, 78, 79, 80, 81, 82, 85, 86)),
    "mouth_corner": ((87,), (93,)),
    "lip": ((88, 89, 94, 95, 99, 100, 104, 105), (91, 92, 97, 98, 102, 103, 107, 108)),
}
TEM_LIP_MID = (90, 96, 101, 106)
TEM_PUPILS = (0, 1)
# Fixed: pupils, inner eye corners, nose, outline, cheeks and chin. Iris contours (2-17) sit on the
# lids and eyelid creases (34-43) between lid and brow: they are left free to follow.
TEM_ANCHORS = (0, 1, 22, 23, *range(50, 71), *range(109, 189))

# MediaPipe face-mesh indices per image side (subject's right eye is image-left).
MESH = {
    "upper_lid": ((161, 160, 159, 158, 157), (388, 387, 386, 385, 384)),
    "lower_lid": ((163, 144, 145, 153, 154), (390, 373, 374, 380, 381)),
    "outer_corner": ((33,), (263,)),
    "under_eye": ((229, 230, 231), (449, 450, 451)),
    "brow": ((70, 63, 105, 66, 107, 46, 53, 52, 65), (300, 293, 334, 296, 336, 276, 283, 282, 295)),
    "mouth_corner": ((61,), (291,)),
    "lip": (
        (185, 40, 39, 37, 146, 91, 181, 84, 78, 191, 80, 81, 82, 95, 88, 178, 87),
        (409, 270, 269, 267, 375, 321, 405, 314, 308, 415, 310, 311, 312, 324, 318, 402, 317),
    ),
}
MESH_LIP_MID = (0, 17, 13, 14)
MESH_PUPILS = IRIS_CENTRE
MESH_ANCHORS = (
    468, 473, 133, 362, 1, 4, 5, 6, 168, 197, 195, 2, 98, 327, 94, 152, 175, 199, 200,
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109, 50, 280,
)  # fmt: skip


@dataclass
class FacePoints:
    """Control points of one photo in pixels: movable groups per image side, plus fixed ones."""

    pupils: np.ndarray  # (2, 2) image-left, image-right
    groups: dict[str, tuple[np.ndarray, np.ndarray]]
    lip_mid: np.ndarray
    anchors: np.ndarray

    @property
    def ipd(self) -> float:
        return float(np.linalg.norm(self.pupils[1] - self.pupils[0]))

    def scaled(self, k: float) -> FacePoints:
        return FacePoints(
            self.pupils * k,
            {n: (a * k, b * k) for n, (a, b) in self.groups.items()},
            self.lip_mid * k,
            self.anchors * k,
        )


def _points(pts: np.ndarray, table: dict, mid: tuple, pupils: tuple, anchors: tuple) -> FacePoints:
    groups = {n: (pts[list(a)], pts[list(b)]) for n, (a, b) in table.items()}
    return FacePoints(pts[list(pupils)], groups, pts[list(mid)], pts[list(anchors)])


def tem_points(path: Path) -> FacePoints:
    return _points(read_tem(path), TEM, TEM_LIP_MID, TEM_PUPILS, TEM_ANCHORS)


def mesh_points(landmarks: np.ndarray) -> FacePoints:
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2]
    return _points(pts, MESH, MESH_LIP_MID, MESH_PUPILS, MESH_ANCHORS)


# --- the palsy displacement ------------------------------------------------------------------


@dataclass
class Palsy:
    """What was simulated: class, affected image side (0 left, 1 right), displacements in IPD."""

    label: str
    side: int | None
    params: dict[str, float] = field(default_factory=dict)


def sample_palsy(label: str, rng: np.random.Generator) -> Palsy:
    region, severity = parse_label(label)
    if region is None or severity is None:
        return Palsy(label, None)
    side = int(rng.integers(2))
    ranges = SEVERITY[region][severity]
    values = [float(rng.uniform(lo, hi)) for lo, hi in ranges]
    names = ("lid_rise", "lid_drop", "brow_drop") if region == "eye" else ("corner_drop", "flatten")
    return Palsy(label, side, dict(zip(names, values, strict=True)))


def displacement(
    fp: FacePoints, palsy: Palsy, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(src, dst) control points for `warp_image`: jitter on every group, palsy on one side."""
    ipd = fp.ipd
    src: list[np.ndarray] = [fp.anchors, fp.lip_mid]
    dst: list[np.ndarray] = [fp.anchors, fp.lip_mid]
    for name, sides in fp.groups.items():
        for s, pts in enumerate(sides):
            jitter = np.clip(rng.normal(0.0, JITTER_IPD, 2), -2 * JITTER_IPD, 2 * JITTER_IPD)
            moved = pts + jitter * ipd
            if palsy.side == s:
                moved = moved + _palsy_shift(fp, name, s, pts, palsy)
            src.append(pts)
            dst.append(moved)
    return np.concatenate(src), np.concatenate(dst)


def _palsy_shift(fp: FacePoints, name: str, side: int, pts: np.ndarray, palsy: Palsy) -> np.ndarray:
    ipd = fp.ipd
    shift = np.zeros_like(pts)
    p = palsy.params
    if "lid_drop" in p:
        pupil = fp.pupils[side]
        eye_half = max(1.0, abs(float(fp.groups["outer_corner"][side][0, 0] - pupil[0])))
        # Lids move most above/below the pupil and less towards the corners.
        bell = np.clip(1.0 - ((pts[:, 0] - pupil[0]) / (1.3 * eye_half)) ** 2, 0.3, 1.0)
        if name == "upper_lid":
            shift[:, 1] = -p["lid_rise"] * ipd * bell
        elif name == "lower_lid":
            shift[:, 1] = p["lid_drop"] * ipd * bell
        elif name == "outer_corner":
            shift[:, 1] = SETTINGS.outer_corner_follows * p["lid_drop"] * ipd
        elif name == "under_eye":
            shift[:, 1] = SETTINGS.under_eye_follows * p["lid_drop"] * ipd
        elif name == "brow":
            # The lateral brow droops more than the medial end.
            mid_x = fp.pupils[:, 0].mean()
            lateral = np.abs(pts[:, 0] - mid_x) / max(1.0, abs(pupil[0] - mid_x))
            shift[:, 1] = p["brow_drop"] * ipd * np.clip(0.6 + 0.4 * lateral, 0.6, 1.4)
    elif "corner_drop" in p and name in ("mouth_corner", "lip"):
        corner = fp.groups["mouth_corner"][side][0]
        mid = fp.lip_mid.mean(axis=0)
        span = max(1.0, abs(float(corner[0] - mid[0])))
        t = np.clip(np.abs(pts[:, 0] - mid[0]) / span, 0.0, 1.0)
        drop = p["corner_drop"] * ipd * t**1.5
        towards_mid = np.sign(mid[0] - corner[0])
        line_y = mid[1] + t * (corner[1] - mid[1])  # the lips' centre line on this side
        flat = (pts[:, 1] - line_y) * (1.0 - p["flatten"] * t)
        shift[:, 0] = towards_mid * MEDIAL_SHIFT * drop
        shift[:, 1] = line_y + drop + flat - pts[:, 1]
    return shift


# --- source photos ---------------------------------------------------------------------------


@dataclass
class Source:
    subject: str
    kind: str  # "neutral" or "smiling"
    rgb: np.ndarray  # WORK_SIZE square
    points: FacePoints
    foreground: np.ndarray  # float32 [0, 1] mask, 1 = person


def load_source(path: Path, points: FacePoints) -> Source:
    img = Image.open(path).convert("RGB")
    k = WORK_SIZE / max(img.size)
    img = img.resize((round(img.width * k), round(img.height * k)), Image.Resampling.LANCZOS)
    rgb = np.asarray(img)
    if rgb.shape[:2] != (WORK_SIZE, WORK_SIZE):
        canvas = np.zeros((WORK_SIZE, WORK_SIZE, 3), np.uint8)
        canvas[: rgb.shape[0], : rgb.shape[1]] = rgb
        rgb = canvas
    kind = "neutral" if path.parent.name == "neutral" else "smiling"
    return Source(path.stem.split("_")[0], kind, rgb, points.scaled(k), foreground_mask(rgb))


def foreground_mask(rgb: np.ndarray, tolerance: float = 16.0, work: int = 256) -> np.ndarray:
    """Key out the studio background; float32 [0, 1] mask at `rgb`'s size, 1 = person.

    The London backdrop is plain grey with a vignette, so its colour is modelled as a quadratic
    surface fitted (with outlier trimming) to the top band and the side bands above the shoulders.
    Pixels within `tolerance` of that surface and connected to the top or sides are background.
    Solved at `work` px (the flood fill is pure Python) and scaled back up, softly.
    """
    h0, w0 = rgb.shape[:2]
    small = np.asarray(Image.fromarray(rgb).resize((work, work), Image.Resampling.BOX), np.float64)
    h, w = work, work
    yy, xx = np.mgrid[0:h, 0:w]
    x, y = xx / w - 0.5, yy / h - 0.5
    feats = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)
    band = np.zeros((h, w), bool)
    band[: h // 12] = True
    band[: int(h * 0.75), : w // 16] = True
    band[: int(h * 0.75), -(w // 16) :] = True
    f, v = feats[band], small[band]
    keep = np.ones(len(f), bool)
    for _ in range(3):
        coef, *_ = np.linalg.lstsq(f[keep], v[keep], rcond=None)
        resid = np.abs(f @ coef - v).max(axis=1)
        keep = resid < max(8.0, float(np.percentile(resid, 70)))
    near = np.abs(small - feats @ coef).max(axis=2) < tolerance
    # .copy(): an image made by fromarray may share read-only memory, and floodfill then no-ops.
    mask = Image.fromarray(near.astype(np.uint8) * 255, "L").copy()
    for sx, sy in _border_seeds(w, int(h * 0.75), step=8):
        if mask.getpixel((sx, sy)) == 255:
            ImageDraw.floodfill(mask, (sx, sy), 128)
    person = Image.fromarray(((np.asarray(mask) != 128) * 255).astype(np.uint8), "L")
    person = person.resize((w0, h0), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(1))
    return np.asarray(person, dtype=np.float32) / 255.0


def _border_seeds(w: int, h: int, step: int = 32) -> Iterator[tuple[int, int]]:
    """Seeds along the top edge and down both sides to height `h` (not the bottom: the body)."""
    for x in range(0, w, step):
        yield x, 0
    for y in range(0, h, step):
        yield 0, y
        yield w - 1, y


# --- appearance randomisation ----------------------------------------------------------------


def random_background(rng: np.random.Generator, size: int) -> np.ndarray:
    kind = rng.integers(4)
    if kind == 0:  # flat colour
        bg = np.ones((size, size, 3)) * rng.uniform(0, 255, 3)
    elif kind == 1:  # linear gradient between two colours
        a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        angle = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:size, 0:size] / size
        t = np.clip((xx - 0.5) * math.cos(angle) + (yy - 0.5) * math.sin(angle) + 0.5, 0, 1)
        bg = a * (1 - t[..., None]) + b * t[..., None]
    elif kind == 2:  # smooth colour field
        small = rng.uniform(0, 255, (int(rng.integers(2, 7)),) * 2 + (3,)).astype(np.uint8)
        bg = np.asarray(Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC))
    else:  # cluttered: random boxes, like a room
        img = Image.new("RGB", (size, size), tuple(int(v) for v in rng.uniform(0, 255, 3)))
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(3, 12))):
            x0, y0 = rng.uniform(-0.2, 1.0, 2) * size
            w, h = rng.uniform(0.05, 0.6, 2) * size
            draw.rectangle(
                (x0, y0, x0 + w, y0 + h), fill=tuple(int(v) for v in rng.uniform(0, 255, 3))
            )
        bg = np.asarray(img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 4)))))
    noise = rng.normal(0, rng.uniform(0, 6), (size, size, 1))
    return np.clip(np.asarray(bg, np.float64) + noise, 0, 255)


def frame(
    rgb: np.ndarray, mask: np.ndarray, points: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random scale, shift and small rotation of image, mask and points (same affine)."""
    size = rgb.shape[0]
    scale = rng.uniform(*SETTINGS.scale)
    angle = math.radians(rng.uniform(-SETTINGS.rotation_deg, SETTINGS.rotation_deg))
    shift = rng.uniform(-SETTINGS.shift, SETTINGS.shift, 2) * size
    c = size / 2.0
    # Output -> input map (what PIL's AFFINE wants): x_in = A^-1 (x_out - c - shift) + c.
    cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
    a, b, d, e = cos, sin, -sin, cos
    ox, oy = c + shift
    coeffs = (a, b, c - a * ox - b * oy, d, e, c - d * ox - e * oy)
    out = Image.fromarray(rgb).transform(
        (size, size), Image.Transform.AFFINE, coeffs, resample=Image.Resampling.BILINEAR
    )
    m = Image.fromarray(mask).transform(
        (size, size), Image.Transform.AFFINE, coeffs, resample=Image.Resampling.BILINEAR
    )
    fwd = np.linalg.inv(np.array([[a, b, coeffs[2]], [d, e, coeffs[5]], [0, 0, 1]]))
    pts = points @ fwd[:2, :2].T + fwd[:2, 2]
    return np.asarray(out), np.asarray(m), pts


def relight(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Directional light, gamma, white balance and saturation."""
    size = img.shape[0]
    angle = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:size, 0:size] / size - 0.5
    ramp = (xx * math.cos(angle) + yy * math.sin(angle)) * rng.uniform(0, 0.8)
    out = img * (1.0 + ramp[..., None]) * rng.uniform(0.7, 1.25)
    out = np.clip(out, 0, 255) / 255.0
    out = out ** rng.uniform(0.8, 1.25)
    out = out * rng.uniform(0.85, 1.15, 3)
    grey = out.mean(axis=2, keepdims=True)
    out = grey + (out - grey) * rng.uniform(0.6, 1.3)
    return np.clip(out * 255.0, 0, 255)


def add_glasses(img: Image.Image, pupils: np.ndarray, rng: np.random.Generator) -> None:
    ipd = float(np.linalg.norm(pupils[1] - pupils[0]))
    draw = ImageDraw.Draw(img, "RGBA")
    colour = tuple(int(v) for v in rng.uniform(0, 90, 3))
    width = max(1, round(ipd * rng.uniform(0.03, 0.07)))
    rx, ry = ipd * rng.uniform(0.33, 0.42), ipd * rng.uniform(0.22, 0.3)
    tint = (*colour, int(rng.uniform(0, 60)))
    for p in pupils:
        box = (p[0] - rx, p[1] - ry, p[0] + rx, p[1] + ry)
        draw.ellipse(box, fill=tint, outline=(*colour, 255), width=width)
    left, right = pupils[pupils[:, 0].argsort()]
    draw.line((left[0] + rx, left[1], right[0] - rx, right[1]), fill=(*colour, 255), width=width)
    draw.line(
        (left[0] - rx, left[1], left[0] - 1.2 * ipd, left[1]), fill=(*colour, 255), width=width
    )
    draw.line(
        (right[0] + rx, right[1], right[0] + 1.2 * ipd, right[1]), fill=(*colour, 255), width=width
    )


def add_hand(
    img: Image.Image, pupils: np.ndarray, mouth_y: float, rng: np.random.Generator
) -> None:
    """A skin-coloured hand (palm and fingers) at the chin, below the mouth corners."""
    ipd = float(np.linalg.norm(pupils[1] - pupils[0]))
    skin = np.array([rng.uniform(120, 235), 0, 0])
    skin[1] = skin[0] * rng.uniform(0.7, 0.82)
    skin[2] = skin[0] * rng.uniform(0.55, 0.7)
    colour = tuple(int(v) for v in skin)
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    cx = float(pupils[:, 0].mean() + rng.uniform(-0.6, 0.6) * ipd)
    top = mouth_y + rng.uniform(0.35, 0.6) * ipd
    finger_w = 0.2 * ipd
    for i in range(4):
        x = cx + (i - 1.5) * finger_w * 1.05
        length = ipd * rng.uniform(0.5, 0.8)
        draw.rounded_rectangle(
            (x - finger_w / 2, top, x + finger_w / 2, top + length),
            radius=finger_w / 2,
            fill=colour,
        )
    draw.ellipse((cx - 0.5 * ipd, top + 0.4 * ipd, cx + 0.5 * ipd, top + 1.6 * ipd), fill=colour)
    img.paste(
        layer.filter(ImageFilter.GaussianBlur(1.0)),
        (0, 0),
        layer.filter(ImageFilter.GaussianBlur(1.0)),
    )


def render(source: Source, palsy: Palsy, rng: np.random.Generator) -> tuple[Image.Image, int]:
    """One synthetic image and its JPEG quality."""
    src, dst = displacement(source.points, palsy, rng)
    warped = warp_image(source.rgb, src, dst, grid_step=WORK_SIZE // 32)
    fp = source.points
    key = np.concatenate([fp.pupils, fp.groups["mouth_corner"][0], fp.groups["mouth_corner"][1]])
    mask8 = (source.foreground * 255).astype(np.uint8)
    face, mask, key = frame(warped, mask8, key, rng)
    alpha = (mask.astype(np.float64) / 255.0)[..., None]
    img = face * alpha + random_background(rng, WORK_SIZE) * (1 - alpha)
    pil = Image.fromarray(relight(img, rng).astype(np.uint8))
    if rng.random() < SETTINGS.glasses:
        add_glasses(pil, key[:2], rng)
    if rng.random() < SETTINGS.hand:
        add_hand(pil, key[:2], float(key[2:, 1].max()), rng)
    if rng.random() < SETTINGS.blur:
        pil = pil.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.6))))
    if rng.random() < SETTINGS.noise:
        noisy = np.asarray(pil, np.float64) + rng.normal(
            0, rng.uniform(1, 6), (WORK_SIZE, WORK_SIZE, 3)
        )
        pil = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    low, high = SETTINGS.jpeg_quality
    return pil, int(rng.integers(low, high + 1))


# --- the whole set ---------------------------------------------------------------------------


def source_jobs(london: Path) -> list[tuple[str, Path]]:
    """(subject, photo) pairs: every neutral photo with a template, and every smiling photo."""
    jobs = [(p.stem.split("_")[0], p) for p in sorted((london / "neutral").glob("*.jpg"))]
    jobs += [(p.stem.split("_")[0], p) for p in sorted((london / "smiling").glob("*.jpg"))]
    return jobs


class _MeshSource:
    """Landmarks for photos without a template, through model.locate's FaceLocator (lazy)."""

    def __init__(self) -> None:
        from model.locate import FaceLocator

        self.locator = FaceLocator()

    def points(self, path: Path) -> FacePoints | None:
        from model.reasons import Rejected

        rgb = np.asarray(Image.open(path).convert("RGB"))
        try:
            return mesh_points(self.locator.locate(rgb).mesh)
        except Rejected:
            return None


_MESH: _MeshSource | None = None


def generate_photo(args: tuple[str, Path, Path, int, int]) -> list[dict[str, str]]:
    """All variants of one photo; returns manifest rows. Runs in a worker process."""
    global _MESH
    subject, photo, out, variants, seed = args
    tem = photo.with_suffix(".tem")
    if tem.exists():
        points = tem_points(tem)
    else:
        if _MESH is None:
            _MESH = _MeshSource()
        found = _MESH.points(photo)
        if found is None:
            return []
        points = found
    source = load_source(photo, points)
    rows = []
    for ci, label in enumerate(CLASSES):
        for k in range(variants):
            rng = np.random.default_rng([seed, int(subject), source.kind == "smiling", ci, k])
            palsy = sample_palsy(label, rng)
            img, quality = render(source, palsy, rng)
            name = f"{subject}_{source.kind}_{k}.jpg"
            (out / label).mkdir(parents=True, exist_ok=True)
            img.save(out / label / name, quality=quality)
            side = {None: "", 0: "image_left", 1: "image_right"}[palsy.side]
            rows.append(
                {
                    "file": f"{label}/{name}",
                    "class": label,
                    "subject": subject,
                    "photo": source.kind,
                    "side": side,
                    "jpeg_quality": str(quality),
                    "params_ipd": json.dumps({k2: round(v, 4) for k2, v in palsy.params.items()}),
                }
            )
    return rows


def build(
    london: Path, out: Path, variants: int = 3, seed: int = 1234, workers: int = 1,
    limit: int | None = None,
) -> dict[str, object]:  # fmt: skip
    """Write the synthetic set as folder-per-class JPEGs plus `subjects.csv` and `manifest.csv`."""
    from tqdm import tqdm

    jobs = source_jobs(london)
    if limit:
        keep = sorted({s for s, _ in jobs})[:limit]
        jobs = [j for j in jobs if j[0] in keep]
    out.mkdir(parents=True, exist_ok=True)
    tasks = [(s, p, out, variants, seed) for s, p in jobs]
    rows: list[dict[str, str]] = []
    skipped: list[str] = []
    if workers > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            results = pool.imap(generate_photo, tasks)
            for task, res in tqdm(zip(tasks, results, strict=True), total=len(tasks), desc="synth"):
                rows += res
                if not res:
                    skipped.append(str(task[1]))
    else:
        for task in tqdm(tasks, desc="synth"):
            res = generate_photo(task)
            rows += res
            if not res:
                skipped.append(str(task[1]))
    rows.sort(key=lambda r: r["file"])
    with open(out / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with open(out / "subjects.csv", "w", newline="") as f:
        pairs = csv.writer(f)
        pairs.writerow(["file", "subject"])
        pairs.writerows((r["file"], r["subject"]) for r in rows)
    (out / "ATTRIBUTION.txt").write_text(ATTRIBUTION + "\n")
    stats = {
        "images": len(rows),
        "per_class": {c: sum(r["class"] == c for r in rows) for c in CLASSES},
        "subjects": len({r["subject"] for r in rows}),
        "photos_skipped_no_face": skipped,
        "variants_per_photo_and_class": variants,
        "seed": seed,
        "severity_ranges_ipd": SEVERITY,
    }
    (out / "synth_stats.json").write_text(json.dumps(stats, indent=2))
    return stats


def contact_sheet(data: Path, out: Path, subjects: int = 3, thumb: int = 144) -> Path:
    """A small grid of generated samples (rows: photos, columns: classes) with attribution."""
    rows = list(csv.DictReader(open(data / "manifest.csv")))
    picks = sorted({(r["subject"], r["photo"]) for r in rows})
    step = max(1, len(picks) // subjects)
    chosen = picks[::step][:subjects]
    label_h, foot = 18, 40
    sheet = Image.new("RGB", (thumb * len(CLASSES), label_h + thumb * len(chosen) + foot), "white")
    draw = ImageDraw.Draw(sheet)
    for ci, label in enumerate(CLASSES):
        draw.text((ci * thumb + 4, 3), label, fill="black")
        for ri, (subject, photo) in enumerate(chosen):
            path = data / label / f"{subject}_{photo}_0.jpg"
            if path.exists():
                img = Image.open(path).convert("RGB")
                w = img.width
                img = img.crop((w * 0.2, w * 0.15, w * 0.8, w * 0.75)).resize((thumb, thumb))
                sheet.paste(img, (ci * thumb, label_h + ri * thumb))
    y = label_h + thumb * len(chosen) + 3
    text = ATTRIBUTION
    cut = len(text) // 2
    cut = text.rfind(" ", 0, cut + 20)
    draw.text((4, y), text[:cut], fill="black")
    draw.text((4, y + 16), text[cut + 1 :], fill="black")
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, quality=85)
    return out


def default_workers() -> int:
    return max(1, min(2, (os.cpu_count() or 1)))
