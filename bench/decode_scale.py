"""Reduced-scale JPEG decoding (`DecodeLimits.min_long_side`) against full-scale, side by side.

    python -m bench.decode_scale [--photos 102] [--min-long-side 640]

Same London photos, one thread, the two decodes alternating per photo in one process. Sets:
the 1350 px originals; 1280 x 960 phone-like frames (JPEG q87) with the face pasted at 960, 640
and 480 px (face boxes ~300, ~200, ~150 px at full scale: the last near the quality gate's 15 %
of the frame); and the 960 frames blurred (Gaussian sigma 2, the sharpness gate's borderline).
Per set and decode: `Screener.screen` stage medians, the landmark error against the templates
(pupils + mouth corners, in IPDs, points mapped back to the photo's pixels), and how many
decisions (status, reason, label, side, tier) are the same.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import ImageFilter

from bench.pipeline import LONDON, machine, percentiles
from model.face.decode import DecodeLimits, decode
from model.face.landmarks import key_points
from model.face.quality import main_face
from model.pipeline import Screener
from model.result import ScreeningResult
from tests.support.grader_pins import phone_frame
from tests.support.london_truth import errors, four_points, template
from tests.support.model_images import jpeg


def framed(side: int, blur: float = 0.0) -> Callable[[Path], tuple[bytes, float, tuple]]:
    def make(photo: Path) -> tuple[bytes, float, tuple]:
        image = phone_frame(photo, side)
        if blur:
            image = image.filter(ImageFilter.GaussianBlur(blur))
        return jpeg(image, 87), side / 1350, ((1280 - side) // 2, (960 - side) // 2)

    return make


def original(photo: Path) -> tuple[bytes, float, tuple]:
    return photo.read_bytes(), 1.0, (0, 0)


SETS: dict[str, Callable[[Path], tuple[bytes, float, tuple]]] = {
    "original": original,
    "face960": framed(960),
    "face640": framed(640),
    "face480": framed(480),
    "face960-blur2": framed(960, 2.0),
}


def decision(result: ScreeningResult) -> tuple:
    side = result.finding.side if result.finding else None
    return result.status, result.reason, result.label, side, result.tier


def short(d: tuple) -> str:
    """A decision in words: the rejection reason, or label / side / tier."""
    _status, reason, label, side, tier = d
    return reason.value if reason else f"{label}/{side}/{tier.value}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--photos", type=int, default=102)
    p.add_argument("--sets", default=",".join(SETS), help="comma-separated set names")
    p.add_argument("--min-long-side", type=int, default=DecodeLimits().min_long_side)
    args = p.parse_args()
    photos = sorted(LONDON.glob("*_03.jpg"))[: args.photos]
    if not photos:
        raise SystemExit(f"no London photos under {LONDON}")
    modes = {
        "full": DecodeLimits(min_long_side=0),
        "reduced": DecodeLimits(min_long_side=args.min_long_side),
    }
    screeners = {m: Screener(threads=1, limits=lim) for m, lim in modes.items()}
    print(f"machine: {machine()}")
    print(f"{len(photos)} London photos per set; reduced = min_long_side {args.min_long_side}")
    for name in args.sets.split(","):
        make = SETS[name]
        times: dict[str, dict[str, list[float]]] = {m: {} for m in modes}
        errs: dict[str, list[float]] = {m: [] for m in modes}
        decisions: dict[str, list[tuple]] = {m: [] for m in modes}
        scales = set()
        for photo in photos:
            data, k, offset = make(photo)
            truth, ipd = template(photo, k)
            truth = truth + offset
            for mode, screener in screeners.items():
                result = screener.screen(data)
                decisions[mode].append(decision(result))
                for stage, ms in result.timings_ms.items():
                    times[mode].setdefault(stage, []).append(ms)
                decoded = decode(data, modes[mode])
                if mode == "reduced":
                    scales.add(round(decoded.scale, 3))
                faces = screener.detector.detect(decoded.rgb)
                if faces:
                    mesh = screener.mesh.landmarks(decoded.rgb, main_face(faces))
                    points = four_points(key_points(mesh)) * decoded.scale
                    errs[mode].append(float(np.mean(errors(points, truth, ipd))))
        same = sum(a == b for a, b in zip(decisions["full"], decisions["reduced"], strict=True))
        outcome: dict[str, int] = {}
        for d in decisions["reduced"]:
            key = d[1].value if d[1] else str(d[2])
            outcome[key] = outcome.get(key, 0) + 1
        print(f"\n== {name}: reduced decode scale {sorted(scales)}; reduced outcomes {outcome}")
        print(f"  same decision: {same}/{len(photos)}")
        pairs = zip(decisions["full"], decisions["reduced"], strict=True)
        for (was, now), n in Counter((short(a), short(b)) for a, b in pairs if a != b).items():
            print(f"    {was} -> {now}: {n}")
        for mode in modes:
            print(f"  landmark error, {mode:<7}: mean {np.mean(errs[mode]):.4f} IPD")
        print(f"  {'stage p50 ms':<14}{'full':>8}{'reduced':>9}{'ratio':>7}")
        for stage in times["full"]:
            a = percentiles(times["full"][stage])["p50"]
            b = percentiles(times["reduced"].get(stage, [0.0]))["p50"]
            print(f"  {stage:<14}{a:>8.2f}{b:>9.2f}{b / a if a else 0:>7.2f}")
    print(f"\nload average {os.getloadavg()[0]:.2f}; {time.strftime('%Y-%m-%d %H:%M')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
