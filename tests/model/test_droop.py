"""palsy-check sees the droop a person sees.

A realised 6 mm droop of the subject's left mouth corner: the content around the corner moves
down by 0.10 inter-pupil distances (~6 mm) under a smooth Gaussian warp written here, apart from
the training warps, so the screen is not tested on its own synthesiser. The real CLI must name a
left mouth finding, and a right one for the mirrored photo. Face images: DeBruine & Jones (2017),
Face Research Lab London Set, CC BY 4.0 (warped on the fly, never stored).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.support.london_truth import (
    MOUTH_CORNER_IMAGE_LEFT,
    MOUTH_CORNER_IMAGE_RIGHT,
    inter_pupil_distance,
    read_tem,
)
from tests.support.model_images import jpeg

REPO = Path(__file__).resolve().parents[2]
DROP_IPD = 0.10  # ~6 mm at 63 mm between the pupils
RADIUS_IPD = 0.22  # the skin around the corner sags with it


def drooped(photo: Path) -> np.ndarray:
    """The photo with the subject's left mouth corner (the image's right) 6 mm lower."""
    tem = read_tem(photo.with_suffix(".tem"))
    ipd = inter_pupil_distance(tem)
    corner = max(tem[MOUTH_CORNER_IMAGE_LEFT], tem[MOUTH_CORNER_IMAGE_RIGHT], key=lambda p: p[0])
    rgb = np.asarray(Image.open(photo).convert("RGB")).astype(np.float32)
    h, w = rgb.shape[:2]
    drop, radius = DROP_IPD * ipd, RADIUS_IPD * ipd
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bump = np.exp(-((xx - corner[0]) ** 2 + (yy - corner[1] - drop) ** 2) / (2 * radius**2))
    source_y = np.clip(yy - drop * bump, 0, h - 1)
    y0 = np.floor(source_y).astype(int)
    y1 = np.minimum(y0 + 1, h - 1)
    f = (source_y - y0)[..., None]
    cols = xx.astype(int)
    out = rgb[y0, cols] * (1 - f) + rgb[y1, cols] * f
    return np.clip(out, 0, 255).astype(np.uint8)


def test_a_6mm_left_mouth_droop_is_a_left_mouth_finding_and_mirrored_a_right_one(
    london_neutral: list[Path], tmp_path: Path
) -> None:
    photos = london_neutral[3::8]  # 13 people across the set
    paths = []
    for photo in photos:
        rgb = drooped(photo)
        for name, image in (("plain", rgb), ("mirrored", np.ascontiguousarray(rgb[:, ::-1]))):
            path = tmp_path / f"{name}_{photo.name}"
            path.write_bytes(jpeg(image, 92))
            paths.append(path)
    cmd = [sys.executable, "-m", "model", "--json", *map(str, paths)]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, check=True)
    found = {"plain": 0, "mirrored": 0}
    wrong = []
    for line in done.stdout.splitlines():
        row = json.loads(line)
        kind = Path(row["path"]).name.split("_")[0]
        finding = row.get("finding") or {}
        want = "left" if kind == "plain" else "right"
        if row["status"] == "ok" and finding.get("decision") == "finding":
            if (finding.get("region"), finding.get("side")) == ("mouth", want):
                found[kind] += 1
            else:
                wrong.append(row["path"])
    # Never the wrong side or region; most found (2026-12-06: 9 and 10 of 13, the rest unclear
    # or told no signs where the person's own asymmetry leans the other way).
    assert not wrong, wrong
    assert found["plain"] > len(photos) / 2 and found["mirrored"] > len(photos) / 2, found
