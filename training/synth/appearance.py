"""One synthetic image: warp, then random framing, background, light, occluders, blur, noise
and JPEG quality, so the classifier cannot learn studio artefacts."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from training.synth.palsy import Palsy, displacement
from training.synth.settings import SETTINGS, WORK_SIZE
from training.synth.source import Source


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
    warped = displacement(source.points, palsy, rng).warp(source.rgb)
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
