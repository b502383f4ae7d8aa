"""What decoding 1280 x 960 JPEGs at half scale (libjpeg DCT scaling) would buy and cost.

    python -m bench.decode_scale

A measurement for a change NOT made: `decode_image` is shared with training (byte-for-byte
train/serve parity) and the quality gate's `min_face_px` is in decoded pixels, so adopting it
needs training/ and the thresholds to move with it. Same London frames as bench/pipeline.py; per
photo, one thread, full and half decode alternating: `Screener.screen` time per stage, landmark
error against the templates (in frame pixels), the largest change of any class probability, and
whether the outcome (label or rejection reason) is the same.
"""

from __future__ import annotations

import io
import os
import sys
import time

import numpy as np
from PIL import Image

import model.decode as decode
from bench.face_anchor import truth_in_frame
from bench.pipeline import LONDON, frame, machine, percentiles
from model.landmarks import key_points
from model.pipeline import Screener
from tests.london_truth import errors, four_points

FULL = decode._decode


def half(image: Image.Image, max_side: int) -> np.ndarray:
    if image.format in ("JPEG", "MPO"):
        image.draft(None, (image.width // 2, image.height // 2))
    return FULL(image, max_side)


def main() -> int:
    photos = sorted(LONDON.glob("*_03.jpg"))
    if not photos:
        raise SystemExit(f"no London photos under {LONDON}")
    screener = Screener(threads=1)
    times: dict[str, dict[str, list[float]]] = {"full": {}, "half": {}}
    errs: dict[str, list[np.ndarray]] = {"full": [], "half": []}
    dp, same = [], 0
    for path in photos:
        buffer = io.BytesIO()
        frame(path).save(buffer, "JPEG", quality=90)
        data = buffer.getvalue()
        out = {}
        for mode, fn in (("full", FULL), ("half", half)):
            decode._decode = fn
            for _ in range(3):
                result = screener.screen(data)
                for stage, ms in result.timings_ms.items():
                    times[mode].setdefault(stage, []).append(ms)
            rgb = decode.decode_image(data)
            face = screener.detector.detect(rgb)[0]
            points = four_points(key_points(screener.mesh.landmarks(rgb, face)))
            truth, ipd = truth_in_frame(path)
            errs[mode].append(errors(points * 1280 / rgb.shape[1], truth, ipd))
            out[mode] = result
        decode._decode = FULL
        full, halved = out["full"], out["half"]
        if full.probabilities and halved.probabilities:
            dp.append(max(abs(p - halved.probabilities[k]) for k, p in full.probabilities.items()))
        same += (full.label, full.reason) == (halved.label, halved.reason)
    print(f"machine: {machine()}")
    print(f"{len(photos)} London photos on 1280x960 JPEG q90 frames, 3 screens each per scale")
    print(f"{'stage p50 / p95 ms':<22}{'full':>16}{'half':>16}")
    for stage in times["full"]:
        cells = [percentiles(times[m][stage]) for m in ("full", "half")]
        print(f"{stage:<22}" + "".join(f"{c['p50']:>9.2f} /{c['p95']:>5.1f}" for c in cells))
    for mode, e in errs.items():
        print(f"landmark error, {mode} decode: mean {np.mean(e):.4f} IPD")
    print(f"max |probability change| per photo: median {np.median(dp):.4f}, max {np.max(dp):.4f}")
    print(f"same outcome (label or rejection reason): {same}/{len(photos)}")
    print(f"load average {os.getloadavg()[0]:.2f}; {time.strftime('%Y-%m-%d %H:%M')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
