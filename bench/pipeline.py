"""Screening pipeline latency on one thread: decode + face + landmarks + quality + align + classify.

Input: 1280 x 960 JPEGs (quality 90) made from London photos (resized to 960 px and padded with
grey), or, without the London set, a synthetic picture (no face: only decode + detect then run).
Classifier: the bundled default (`model.cnn.classifier.DEFAULT_CLASSIFIER`, each checkout's own with
`--against`) when present, else the paper's CNN shape with random
weights (tests.support.onnx_fixtures.build_paper_shaped_classifier), which costs the same to run.

The measurement runs in a fresh child process so start-up time and peak RSS are honest (the
parent imports onnx to build the stand-in classifier; the child imports only model/). On a busy
machine wall times include waiting for a core; the calling thread's CPU time does not.

    python -m bench.pipeline [--images 20] [--repeats 10] [--model PATH] [--cnn] [--json out.json]
    python -m bench.pipeline --against ../base [--rounds 3]   # before / after, side by side

`--against` names another checkout of the project (e.g. `git worktree add ../base main`): its
own child and this one's run in turns (A B A B ...) on the same images and classifier, and the
table gives each stage's p50 per side (median over rounds) and the ratio this / that.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

T0 = time.perf_counter()
REPO = Path(__file__).resolve().parents[1]
LONDON = REPO.parent / "shared" / "data" / "faces" / "london" / "neutral"
# What MediaPipe's FaceLandmarker does (bench/face_anchor.py), plus the decode.
CORE = ("decode", "detect", "landmarks")
# Where `frame` puts a London photo: 960 px high, centred horizontally.
FRAME_SIDE, FRAME_OFFSET = 960, (160, 0)


def make_images(out: Path, count: int) -> str:
    """Write `count` 1280 x 960 JPEGs to `out`; returns what they were made from."""
    import numpy as np
    from PIL import Image

    photos = sorted(LONDON.glob("*_03.jpg"))[:count]
    for i in range(count):
        if photos:
            canvas = frame(photos[i % len(photos)])
        else:
            rng = np.random.default_rng(i)
            canvas = Image.fromarray(rng.integers(0, 256, (960, 1280, 3), dtype=np.uint8))
        canvas.save(out / f"{i:03d}.jpg", "JPEG", quality=90)
    return f"{len(photos)} London photos" if photos else "synthetic noise (London set absent)"


def frame(photo: Path) -> Image.Image:
    """A London photo (square) resized to 960 px and centred on a 1280 x 960 grey frame: a
    template point p lands at p * FRAME_SIDE / (photo side) + FRAME_OFFSET."""
    from tests.support.grader_pins import phone_frame  # the parent only: the child times imports

    return phone_frame(photo, FRAME_SIDE)


def percentiles(values: list[float]) -> dict[str, float]:
    import numpy as np

    return {
        "p50": round(float(np.percentile(values, 50)), 2),
        "p95": round(float(np.percentile(values, 95)), 2),
    }


def child(images: Path, model: Path, repeats: int, max_side: int | None, cnn: bool) -> dict:
    import resource

    from model.face.decode import DecodeLimits
    from model.pipeline import Screener

    datas = [p.read_bytes() for p in sorted(images.glob("*.jpg"))]
    limits = DecodeLimits() if max_side is None else DecodeLimits(max_side=max_side)
    screener = Screener(classifier_path=model, threads=1, limits=limits, shadow_cnn=cnn)
    first = screener.screen(datas[0])
    startup_s = time.perf_counter() - T0
    for data in datas[:3]:  # warm-up
        screener.screen(data)
    stages: dict[str, list[float]] = {}
    outcomes: dict[str, int] = {}
    wall, cpu = [], []
    for _ in range(repeats):
        for data in datas:
            s, c = time.perf_counter(), time.thread_time()
            result = screener.screen(data)
            wall.append((time.perf_counter() - s) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
            for name, ms in result.timings_ms.items():
                stages.setdefault(name, []).append(ms)
            key = result.reason.value if result.reason else result.status
            outcomes[key] = outcomes.get(key, 0) + 1
            if result.timings_ms.keys() >= set(CORE):
                core = sum(result.timings_ms[k] for k in CORE)
                stages.setdefault("+".join(CORE), []).append(core)
    # The FAST face test: three photos (rest, smile, brows) and the exam's decision.
    exam = []
    n = len(datas)
    for _ in range(max(1, repeats // 2)):
        for i in range(0, max(1, n - 2), 3):
            s = time.thread_time()
            screener.exam(datas[i], datas[(i + 1) % n], datas[(i + 2) % n])
            exam.append((time.thread_time() - s) * 1000)
    return {
        "cnn_runs": screener.runs_cnn,
        "model": {"name": screener.classifier.info.name, "path": str(model)},
        "max_side": limits.max_side,
        "first_result": first.reason.value if first.reason else first.status,
        "startup_s": round(startup_s, 3),
        "runs": len(wall),
        "outcomes": outcomes,
        "stages_ms": {name: percentiles(v) for name, v in stages.items()},
        "wall_ms": percentiles(wall),
        # CPU time of the calling thread (ONNX Runtime runs there with one intra-op thread):
        # what a call costs when it has a core to itself, even on a busy machine.
        "thread_cpu_ms": percentiles(cpu),
        "exam_thread_cpu_ms": percentiles(exam),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def default_model(repo: Path) -> Path:
    """`repo`'s bundled classifier, asked of its own code (the parent imports no model/)."""
    cmd = [
        sys.executable,
        "-c",
        "from model.cnn.classifier import DEFAULT_CLASSIFIER as d; print(d)",
    ]
    env = dict(os.environ, PYTHONPATH=str(repo))
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=repo, env=env, check=True)
    return Path(done.stdout.strip())


def run_child(
    repo: Path, work: Path, model: Path, repeats: int, max_side: int | None, cnn: bool = False
) -> dict:
    """One measuring child process, run with `repo`'s code."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(repo))
    cmd = [sys.executable, "-m", "bench.pipeline", "--child", str(work), str(model)]
    cmd += ["--repeats", str(repeats)]
    if max_side:
        cmd += ["--max-side", str(max_side)]
    if cnn:
        cmd += ["--cnn"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=repo, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def side_by_side(rounds: dict[str, list[dict]]) -> None:
    """Per stage: p50 and p95 of each side (median over rounds) and the ratio this / that."""
    import numpy as np

    def med(side: str, stage: str, q: str) -> float:
        got = [r["stages_ms"][stage][q] for r in rounds[side] if stage in r["stages_ms"]]
        return float(np.median(got)) if got else float("nan")

    def row(name: str, a: tuple[float, float], b: tuple[float, float]) -> None:
        cells = f"{a[0]:>8.2f}{a[1]:>8.2f}{b[0]:>8.2f}{b[1]:>8.2f}"
        print(f"{name:<34}{cells}{b[0] / a[0]:>8.2f}{b[1] / a[1]:>8.2f}")

    print(
        f"{'median over rounds, ms':<34}{'that p50':>9}{'p95':>7}{'this p50':>9}{'p95':>7}"
        f"{'ratio':>8}{'ratio':>8}"
    )
    stages = dict.fromkeys([*rounds["that"][0]["stages_ms"], *rounds["this"][0]["stages_ms"]])
    for stage in stages:
        that = med("that", stage, "p50"), med("that", stage, "p95")
        row(stage, that, (med("this", stage, "p50"), med("this", stage, "p95")))
    for key, name in (("wall_ms", "wall (screen call)"), ("thread_cpu_ms", "thread CPU time")):
        a, b = ([r[key] for r in rounds[side]] for side in ("that", "this"))
        pick = [tuple(float(np.median([x[q] for x in v])) for q in ("p50", "p95")) for v in (a, b)]
        row(name, pick[0], pick[1])
    for key in ("startup_s", "peak_rss_mib"):
        a, b = (float(np.median([r[key] for r in rounds[side]])) for side in ("that", "this"))
        print(f"{key:<34}{a:>8.2f}{'':>8}{b:>8.2f}{'':>8}{b / a:>8.2f}")
    print("outcomes that / this:", rounds["that"][0]["outcomes"], rounds["this"][0]["outcomes"])


def machine() -> dict[str, object]:
    import numpy
    import onnxruntime
    import PIL

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "numpy": numpy.__version__,
        "pillow": PIL.__version__,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=20)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--model", type=Path, default=None, help="classifier (default: bundled)")
    p.add_argument(
        "--max-side",
        type=int,
        default=None,
        help="DecodeLimits.max_side (default: its default); training must use the same value",
    )
    p.add_argument(
        "--cnn",
        action="store_true",
        help="run the CNN even where the grader gives it no weight (Screener(shadow_cnn=True))",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    p.add_argument("--against", type=Path, default=None, help="another checkout to compare with")
    p.add_argument("--rounds", type=int, default=3, help="turns per side with --against")
    p.add_argument("--child", nargs=2, metavar=("IMAGES", "MODEL"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        found = child(
            Path(args.child[0]), Path(args.child[1]), args.repeats, args.max_side, args.cnn
        )
        print(json.dumps(found))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = make_images(work, args.images)
        model = args.model or default_model(REPO)
        if model.is_file():
            which = f"real classifier {model}"
        else:
            from tests.support.onnx_fixtures import build_paper_shaped_classifier

            model = build_paper_shaped_classifier(work / "paper_shaped.onnx")
            which = "stand-in: paper CNN shape, random weights (no trained classifier yet)"
        if args.against:
            that = args.against.resolve()
            models = {"that": args.model or default_model(that), "this": model}
            rounds: dict[str, list[dict]] = {"that": [], "this": []}
            for _ in range(args.rounds):
                for side, repo in (("that", that), ("this", REPO)):
                    cnn = args.cnn and side == "this"
                    found = run_child(repo, work, models[side], args.repeats, args.max_side, cnn)
                    rounds[side].append(found)
            print(f"machine: {json.dumps(machine())}")
            print(f"images: {args.images} x 1280x960 JPEG q90 from {source}")
            print(f"classifier: that {models['that']}, this {models['this']}")
            print(f"that = {args.against.resolve()}, this = {REPO}; {args.rounds} rounds each")
            side_by_side(rounds)
            if args.json:
                args.json.write_text(json.dumps(rounds, indent=2) + "\n")
            return 0
        result = run_child(REPO, work, model, args.repeats, args.max_side, args.cnn)
    result |= {"images": f"{args.images} x 1280x960 JPEG q90 from {source}", "classifier": which}
    result["machine"] = machine()
    print(f"machine: {json.dumps(result['machine'])}")
    print(f"images: {result['images']}, decoded with max_side {result['max_side']}")
    print(f"classifier: {which}; " + ("runs" if result["cnn_runs"] else "not run (no weight)"))
    print(f"runs: {result['runs']} on one thread; outcomes: {result['outcomes']}")
    print(f"start-up (imports + load + first result): {result['startup_s']:.2f} s")
    print(f"{'stage':<34}{'p50 ms':>9}{'p95 ms':>9}")
    for name, v in result["stages_ms"].items():
        print(f"{name:<34}{v['p50']:>9.2f}{v['p95']:>9.2f}")
    wall = result["wall_ms"]
    print(f"{'wall (screen call)':<34}{wall['p50']:>9.2f}{wall['p95']:>9.2f}")
    cpu = result["thread_cpu_ms"]
    print(f"{'thread CPU time (screen call)':<34}{cpu['p50']:>9.2f}{cpu['p95']:>9.2f}")
    exam = result["exam_thread_cpu_ms"]
    print(f"{'thread CPU time (3-photo exam)':<34}{exam['p50']:>9.2f}{exam['p95']:>9.2f}")
    print(f"peak RSS: {result['peak_rss_mib']:.0f} MiB")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
