"""Seconds per training epoch of the paper CNN (batch 16, 224 x 224) for N images on this machine.

Image content does not change the cost, so random images are used; the first epoch (graph
tracing) is reported apart from the median of the rest. A real run's per-epoch times are also in
its `history.json` ("epoch_seconds").

    python -m bench.train_epoch --images 4200 --epochs 3 --threads 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=4200)
    p.add_argument("--classes", type=int, default=7)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--train-fraction", type=float, default=0.8, help="as in a 0.2 split")
    args = p.parse_args()

    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    from training.cnn.network import compile_paper, paper_cnn

    keras.utils.set_random_seed(0)
    n = int(args.images * args.train_fraction)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 224, 224, 3), dtype=np.uint8)
    y = rng.integers(0, args.classes, n)
    ds = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(n, seed=0)
        .batch(16)
        .map(lambda a, b: (tf.cast(a, tf.float32), b))
        .prefetch(2)
    )
    model = compile_paper(paper_cnn(args.classes))
    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)

    model.fit(ds, epochs=args.epochs, callbacks=[Clock()], verbose=0)
    rest = times[1:] or times
    out = {
        "train_images": n,
        "threads": args.threads,
        "first_epoch_s": round(times[0], 2),
        "median_epoch_s": round(float(np.median(rest)), 2),
        "ms_per_image": round(1000 * float(np.median(rest)) / n, 2),
        "epoch_s": [round(t, 2) for t in times],
        "estimate_50_epochs_min": round(50 * float(np.median(rest)) / 60, 1),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
