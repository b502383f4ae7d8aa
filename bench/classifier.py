"""Classifier inference, same weights four ways, one run: ONNX Runtime f32 and int8, Keras
tf.function and Keras model.predict.

Each engine runs in its own fresh subprocess so start-up time (imports + load + first call) and
peak RSS are honest. Reports single-image latency p50/p95, batch-16 throughput, start-up and peak
RSS, plus ratios to ONNX Runtime f32.

    python -m bench.classifier --run runs/default \
        --onnx model/assets/classifier.onnx --int8 model/assets/classifier.int8.onnx
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ENGINES = ("ort_f32", "ort_int8", "keras_tf_function", "keras_predict")


def child(engine: str, path: str, threads: int, repeats: int) -> dict:
    t0 = time.perf_counter()
    import resource

    import numpy as np

    rng = np.random.default_rng(0)
    one = rng.uniform(0, 255, (1, 224, 224, 3)).astype(np.float32)
    batch = rng.uniform(0, 255, (16, 224, 224, 3)).astype(np.float32)
    if engine.startswith("ort"):
        from model.onnx_session import make_session

        session = make_session(path, threads)
        name = session.get_inputs()[0].name

        def run(x):
            return session.run(None, {name: x})[0]
    else:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        from training.cnn import network

        model = network.load(path)
        if engine == "keras_tf_function":
            fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

            def run(x):
                return fn(tf.constant(x)).numpy()
        else:

            def run(x):
                return model.predict(x, batch_size=16, verbose=0)

    run(one)
    startup = time.perf_counter() - t0
    run(batch)
    singles = []
    for _ in range(repeats):
        s = time.perf_counter()
        run(one)
        singles.append(time.perf_counter() - s)
    batches = []
    for _ in range(max(3, repeats // 10)):
        s = time.perf_counter()
        run(batch)
        batches.append(time.perf_counter() - s)
    ms = np.array(singles) * 1000
    return {
        "engine": engine,
        "startup_s": round(startup, 3),
        "single_p50_ms": round(float(np.percentile(ms, 50)), 3),
        "single_p95_ms": round(float(np.percentile(ms, 95)), 3),
        "batch16_images_per_s": round(16 / float(np.median(batches)), 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "threads": threads,
        "repeats": repeats,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", type=Path, default=Path("runs/default"), help="run with model.keras")
    p.add_argument("--onnx", type=Path, default=Path("model/assets/classifier.onnx"))
    p.add_argument("--int8", type=Path, default=Path("model/assets/classifier.int8.onnx"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--json", type=Path, default=None, help="also write results here")
    p.add_argument("--child", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.threads, args.repeats)))
        return 0
    paths = {
        "ort_f32": args.onnx,
        "ort_int8": args.int8,
        "keras_tf_function": args.run / "model.keras",
        "keras_predict": args.run / "model.keras",
    }
    results = []
    repo = Path(__file__).resolve().parents[1]
    for engine in ENGINES:
        if not paths[engine].is_file():
            print(f"skip {engine}: {paths[engine]} missing", file=sys.stderr)
            continue
        cmd = [sys.executable, __file__, "--child", engine, str(paths[engine])]
        cmd += ["--threads", str(args.threads), "--repeats", str(args.repeats)]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=repo, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    base = next((r for r in results if r["engine"] == "ort_f32"), None)
    print(f"{'engine':<19}{'start s':>9}{'p50 ms':>9}{'p95 ms':>9}{'b16 img/s':>11}{'RSS MiB':>9}")
    for r in results:
        print(
            f"{r['engine']:<19}{r['startup_s']:>9.2f}{r['single_p50_ms']:>9.2f}"
            f"{r['single_p95_ms']:>9.2f}{r['batch16_images_per_s']:>11.1f}{r['peak_rss_mib']:>9.0f}"
        )
        if base:
            r["vs_ort_f32"] = {
                "startup": round(r["startup_s"] / base["startup_s"], 2),
                "single_p50": round(r["single_p50_ms"] / base["single_p50_ms"], 2),
                "peak_rss": round(r["peak_rss_mib"] / base["peak_rss_mib"], 2),
            }
    if base:
        print("ratios to ort_f32:", json.dumps({r["engine"]: r["vs_ort_f32"] for r in results}))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
