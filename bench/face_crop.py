"""Which crop feeds the face mesh best: the detector's box, its keypoints, or a second pass.

    python -m bench.face_crop

On the 102 London neutral photos (hand-placed templates), per crop: the mesh's mouth-corner and
pupil error (distance / template inter-pupil distance), and how the measured mouth-corner
asymmetry follows the hand-placed one: the slope and correlation of the mesh's corner height
difference against the template's (both in their own pupil-line frame, IPD units). A slope of 1
reads a droop at its size; the mesh pulls faces toward symmetry, so below 1 under-reads it.

Crops (rotation always from the detector's eye keypoints, as MediaPipe's detector-to-ROI step):
- `box`: a square of `CROP_SCALE` x the longer side of YuNet's box (what serving used before);
- `keypoints`: a square centred between the eyes and the mouth, its side a multiple of the
  eye-to-mouth distance (both fitted on the first 40 photos, held out on the other 62);
- `two-pass`: the mesh run again on MediaPipe's landmarks-to-ROI crop of the first mesh (its
  tracking mode: the mesh's bounding box x 1.5, rotated by the eye corners); twice the cost.
Measured 2026-12-06 (README, "Benchmarks"): no crop reads the corners better than the box on
all counts (the keypoint crop finds the pupils better and under-reads the mouth more; the second
pass gains a little slope for a second mesh run), so serving keeps `face_crop` (the box).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from model.face import affine
from model.face.faces import MOUTH_LEFT, MOUTH_RIGHT, Face, FaceDetector
from model.face.landmarks import CROP_SCALE, EYE_OUTER, LandmarkModel, face_crop, key_points
from tests.support.london_truth import errors as template_errors
from tests.support.london_truth import four_points, template

REPO = Path(__file__).resolve().parents[1]
LONDON = REPO.parent / "shared" / "data" / "faces" / "london"
TUNED = 40  # the first 40 photos (by name) chose the keypoint crop's numbers
Crop = Callable[[Face, int], np.ndarray]
# The keypoint crop: centred this share of the way from the eyes' midpoint to the mouth's, its
# side this many eye-to-mouth distances (`--fit`: best of a sweep on the first TUNED photos).
KEYPOINT_CENTRE = 0.6
KEYPOINT_SIDE = 3.4


def keypoint_crop(
    face: Face, size: int, centre: float = KEYPOINT_CENTRE, side: float = KEYPOINT_SIDE
) -> np.ndarray:
    """2x3 crop->image matrix: a square placed by the eye and mouth keypoints, rotated so the
    eyes are level (MediaPipe's rotation), its size from the eye-to-mouth distance."""
    eyes, mouth = face.eyes.mean(axis=0), face.keypoints[[MOUTH_LEFT, MOUTH_RIGHT]].mean(axis=0)
    _, angle = affine.eye_line(*face.eyes)
    mid = eyes + centre * (mouth - eyes)
    length = float(np.linalg.norm(mouth - eyes))
    return affine.square_crop_matrix((float(mid[0]), float(mid[1])), length * side, angle, size)


def corner_gap(points: np.ndarray) -> float:
    """Mouth-corner height difference (image-right minus image-left) in the pupil-line frame,
    over the inter-pupil distance. `points`: pupils then mouth corners (TEM order)."""
    ipd, angle = affine.eye_line(points[0], points[1])
    down = np.array([-math.sin(angle), math.cos(angle)])
    return float((points[3] - points[2]) @ down / ipd)


def run_mesh(model: LandmarkModel, rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    crop = affine.warp(rgb, matrix, model.size)
    blob = (crop.astype(np.float32) / 255.0)[None]
    mesh = model.session.run(None, {model.input_name: blob})[model.mesh_output]
    return affine.apply(matrix, mesh.reshape(model.num_points, 3)[:, :2].astype(np.float64))


def second_pass(model: LandmarkModel, rgb: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """MediaPipe's landmarks-to-ROI: the mesh's box x 1.5, square, rotated by the eye corners."""
    _, angle = affine.eye_line(mesh[EYE_OUTER[0]], mesh[EYE_OUTER[1]])
    cos, sin = math.cos(-angle), math.sin(-angle)
    centre = mesh.mean(axis=0)
    levelled = (mesh - centre) @ np.array([[cos, -sin], [sin, cos]]).T
    lo, hi = levelled.min(axis=0), levelled.max(axis=0)
    mid = (lo + hi) / 2 @ np.array([[cos, sin], [-sin, cos]]).T + centre
    side = float(max(hi - lo)) * 1.5
    return affine.square_crop_matrix((float(mid[0]), float(mid[1])), side, angle, model.size)


def fit_line(x: list[float], y: list[float]) -> tuple[float, float]:
    slope = float(np.polyfit(x, y, 1)[0])
    return slope, float(np.corrcoef(x, y)[0, 1])


def fit(photos: list[Path], detector: FaceDetector, model: LandmarkModel) -> None:
    """The keypoint crop's centre and side with the least mean error (pupils and mouth corners)
    on the first TUNED photos."""
    data = []
    for path in photos[:TUNED]:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        faces = detector.detect(rgb)
        if len(faces) == 1:
            data.append((rgb, faces[0], *template(path)))
    scores = {}
    for centre in (0.3, 0.4, 0.5, 0.6, 0.7):
        for side in (2.6, 2.8, 3.0, 3.2, 3.4, 3.6, 3.8):
            e = [
                template_errors(
                    four_points(key_points(run_mesh(model, rgb, keypoint_crop(
                        face, model.size, centre, side)))), truth, ipd).mean()
                for rgb, face, truth, ipd in data
            ]  # fmt: skip
            scores[centre, side] = float(np.mean(e))
            print(f"centre {centre:.1f} side {side:.1f}: mean error {scores[centre, side]:.4f}")
    best = min(scores, key=scores.__getitem__)
    print(f"best on the first {TUNED}: centre {best[0]}, side {best[1]} ({scores[best]:.4f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--london", type=Path, default=LONDON)
    parser.add_argument("--fit", action="store_true", help="sweep the keypoint crop's numbers")
    args = parser.parse_args()
    photos = sorted((args.london / "neutral").glob("*_03.jpg"))
    detector, model = FaceDetector(), LandmarkModel()
    if args.fit:
        fit(photos, detector, model)
        return
    crops: dict[str, Crop] = {"box": face_crop, "keypoints": keypoint_crop}
    errs: dict[str, list[np.ndarray]] = {k: [] for k in (*crops, "two-pass")}
    gaps: dict[str, list[float]] = {k: [] for k in (*crops, "two-pass", "template")}
    for path in photos:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        faces = detector.detect(rgb)
        if len(faces) != 1:
            continue
        truth, ipd = template(path)
        gaps["template"].append(corner_gap(truth))
        for name, crop in crops.items():
            mesh = run_mesh(model, rgb, crop(faces[0], model.size))
            points = four_points(key_points(mesh))
            errs[name].append(template_errors(points, truth, ipd))
            gaps[name].append(corner_gap(points))
            if name == "box":
                again = run_mesh(model, rgb, second_pass(model, rgb, mesh))
                points = four_points(key_points(again))
                errs["two-pass"].append(template_errors(points, truth, ipd))
                gaps["two-pass"].append(corner_gap(points))
    print(f"London neutral: {len(gaps['template'])} photos with one face; box scale "
          f"{CROP_SCALE}, keypoint crop centre {KEYPOINT_CENTRE} / side {KEYPOINT_SIDE} of the "
          f"eye-to-mouth distance (fitted on the first {TUNED})")  # fmt: skip
    print("| crop | photos | mouth corners mean / median | pupils mean | corner asymmetry slope "
          "| correlation |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name in errs:
        for part, sl in (("all", slice(None)), ("held out", slice(TUNED, None))):
            e = np.array(errs[name])[sl]
            slope, corr = fit_line(gaps["template"][sl], gaps[name][sl])
            print(f"| {name} ({part}) | {len(e)} | {e[:, 2:].mean():.4f} / "
                  f"{np.median(e[:, 2:]):.4f} | {e[:, :2].mean():.4f} | {slope:.3f} "
                  f"| {corr:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
