"""Pinned `palsy-check --json` decisions on London photos, phone-like frames and warped faces.

Speed work (decoding scale, detector size, session options) must not move what the screen
decides. `cases` writes the photos; `decisions` runs the real CLI on them and keeps what a person
is told (status, reason, label, region, side, severity, tier). The expected table was made on the
code before the speed work:

    python -m tests.support.grader_pins --write   # rewrites tests/support/data/grader_pins.json

Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0 (resized, framed,
warped on the fly; never stored).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
LONDON = REPO.parent / "shared" / "data" / "faces" / "london"
PINS = REPO / "tests" / "support" / "data" / "grader_pins.json"
KEPT = ("status", "reason", "label", "region", "severity", "tier")
# .tem point groups (tests/support/palsy_photos.py) and how far down they move, in IPDs.
MOUTH_LEFT = (93,)
BROW_LEFT = (77, 78, 79, 80, 81, 82, 85, 86)


def phone_frame(photo: Path, face_side: int) -> Image.Image:
    """The photo (square) at `face_side` px, centred on a 1280 x 960 grey frame: a 1280 px
    Telegram photo with the face smaller than the studio's."""
    from tests.support.model_images import GREY, london

    canvas = Image.new("RGB", (1280, 960), GREY)
    canvas.paste(london(photo, face_side), ((1280 - face_side) // 2, (960 - face_side) // 2))
    return canvas


def cases(london: Path, out: Path) -> list[Path]:
    """Write the pinned photos to `out`; returns their paths (names are the table's keys)."""
    from tests.support.model_images import jpeg
    from tests.support.palsy_photos import droop

    neutral = sorted((london / "neutral").glob("*_03.jpg"))
    smiling = sorted((london / "smiling").glob("*_08.jpg"))
    written: list[Path] = []

    def put(name: str, data: bytes) -> None:
        path = out / name
        path.write_bytes(data)
        written.append(path)

    for photo in neutral[::6] + smiling[3::12]:  # the originals, 1350 px
        put(f"{photo.parent.name}_{photo.name}", photo.read_bytes())
    for k, side in ((1, 960), (40, 960), (9, 640), (60, 640), (15, 480), (70, 480)):
        put(f"frame{side}_{neutral[k].name}", jpeg(phone_frame(neutral[k], side), 87))
    warps: list[tuple[int, dict[tuple[int, ...], float]]] = [
        (7, {MOUTH_LEFT: 0.3}),
        (50, {MOUTH_LEFT: 0.3}),
        (33, {MOUTH_LEFT: 0.15}),
        (20, {BROW_LEFT: 0.2}),
        (64, {MOUTH_LEFT: 0.2, BROW_LEFT: 0.2}),
    ]
    for k, moves in warps:
        rgb = droop(neutral[k], moves, side=1350)
        tag = "_".join(f"{'mouth' if g == MOUTH_LEFT else 'brow'}{d}" for g, d in moves.items())
        put(f"warp_{tag}_{neutral[k].name}", jpeg(rgb, 95))
        mirrored = np.ascontiguousarray(rgb[:, ::-1])
        put(f"warp_{tag}_mirrored_{neutral[k].name}", jpeg(mirrored, 95))
    return written


def decisions(paths: list[Path], env: dict[str, str] | None = None) -> dict[str, dict]:
    """What `python -m model --json` (palsy-check) decides for each path, by file name."""
    run_env = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    cmd = [sys.executable, "-m", "model", "--json", *map(str, paths)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=run_env, check=True)
    table = {}
    for line in done.stdout.splitlines():
        row = json.loads(line)
        kept = {k: row.get(k) for k in KEPT}
        kept["side"] = (row.get("finding") or {}).get("side")
        table[Path(row["path"]).name] = kept
    return table


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--write", action="store_true", help=f"rewrite {PINS.relative_to(REPO)}")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        table = decisions(cases(LONDON, Path(tmp)))
    text = json.dumps(table, indent=1, sort_keys=True) + "\n"
    if args.write:
        PINS.parent.mkdir(exist_ok=True)
        PINS.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
