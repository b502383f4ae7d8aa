"""Peak memory of decoding one image, by format and mode, against `decode_bytes`' estimate.

Each case is decoded in a fresh process (`model.face.decode.decode` with the memory cap lifted);
its peak RSS less that of the same process decoding a tiny image is what decoding took. The
ratio measured / estimated should stay at or under ~1: the estimate is what the cap
(`DecodeLimits.max_decode_bytes`) is held against.

    .venv/bin/python -m bench.decode_memory [--megapixels 12]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from model.face.decode import DecodeLimits, decode_bytes

# VmHWM, not ru_maxrss: Linux carries a parent's peak over fork and exec into ru_maxrss, and
# this script's own images are large; VmHWM is the peak of the probe's own memory map.
PROBE = """
import sys
from dataclasses import replace
from model.face.decode import DecodeLimits, decode
data = open(sys.argv[1], "rb").read()
limits = replace(DecodeLimits(), max_bytes=10**10, max_pixels=10**9, max_decode_bytes=10**12)
decode(data, limits)
status = open("/proc/self/status").read()
print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
"""


def _noise(width: int, height: int, mode: str) -> Image.Image:
    """Gradients with a little noise: small files, and the decoded size, which is what counts
    here, is the same as a photo's."""
    rng = np.random.default_rng(3)
    ramp = np.linspace(0, 200, width, dtype=np.float32)[None, :, None]
    rows = np.linspace(0, 50, height, dtype=np.float32)[:, None, None]
    rgb = ramp + rows + rng.integers(0, 4, (height, width, 3)).astype(np.float32)
    return Image.fromarray(rgb.astype(np.uint8)).convert(mode)


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def cases(megapixels: float) -> dict[str, Callable[[], bytes]]:
    side = int((megapixels * 1e6 / 12) ** 0.5)
    w, h = 4 * side, 3 * side
    grey16 = lambda: Image.fromarray(  # noqa: E731
        np.asarray(_noise(w, h, "L"), dtype=np.uint16) * 257
    )
    return {
        "PNG RGB": lambda: _save(_noise(w, h, "RGB"), "PNG", compress_level=1),
        "PNG RGBA": lambda: _save(_noise(w, h, "RGBA"), "PNG", compress_level=1),
        "PNG P + transparency": lambda: _save(
            _noise(w, h, "RGB").quantize(64), "PNG", transparency=0, compress_level=1
        ),
        "PNG L": lambda: _save(_noise(w, h, "L"), "PNG", compress_level=1),
        "PNG I;16": lambda: _save(grey16(), "PNG", compress_level=1),
        "BMP RGB": lambda: _save(_noise(w, h, "RGB"), "BMP"),
        "GIF P": lambda: _save(_noise(w, h, "RGB").quantize(64), "GIF"),
        "WEBP RGB": lambda: _save(_noise(w, h, "RGB"), "WEBP", quality=50, method=0),
        "JPEG baseline": lambda: _save(_noise(w, h, "RGB"), "JPEG", quality=85),
        "JPEG progressive 4:2:0": lambda: _save(
            _noise(w, h, "RGB"), "JPEG", quality=85, progressive=True
        ),
        "JPEG progressive 4:4:4": lambda: _save(
            _noise(w, h, "RGB"), "JPEG", quality=85, progressive=True, subsampling=0
        ),
        "JPEG CMYK progressive": lambda: _save(
            _noise(w, h, "CMYK"), "JPEG", quality=85, progressive=True
        ),
    }


def peak_kib(path: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=12.0)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, Pillow {Image.__version__}")  # fmt: skip
    limits = DecodeLimits()
    with tempfile.TemporaryDirectory() as tmp:
        tiny = Path(tmp) / "tiny.png"
        tiny.write_bytes(_save(_noise(256, 192, "RGB"), "PNG"))
        base = min(peak_kib(tiny) for _ in range(3))
        print(f"baseline (a 256x192 PNG): {base / 1024:.0f} MiB peak RSS; "
              f"cap {limits.max_decode_bytes / 2**20:.0f} MiB")  # fmt: skip
        # "took": peak RSS over the baseline, less the file's own bytes (read whole first).
        print(f"{'case':26} {'MP':>5} {'file MiB':>8} {'took MiB':>8} {'est. MiB':>8} "
              f"{'ratio':>6} {'B/px':>5}")  # fmt: skip
        for name, make in cases(args.megapixels).items():
            path = Path(tmp) / "case"
            path.write_bytes(make())
            with Image.open(path) as image:
                estimate = decode_bytes(image, limits)
                pixels = image.width * image.height
            took = (min(peak_kib(path) for _ in range(2)) - base) * 1024 - path.stat().st_size
            print(f"{name:26} {pixels / 1e6:5.1f} {path.stat().st_size / 2**20:8.1f} "
                  f"{took / 2**20:8.1f} {estimate / 2**20:8.1f} {took / estimate:6.2f} "
                  f"{took / pixels:5.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
