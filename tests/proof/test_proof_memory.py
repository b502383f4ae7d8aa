"""Bounded memory for any input: the bad-input corpus and generated worst cases through one
real `palsy-check` process, whose peak RSS stays under 300 MiB while each file gets its reason
(or, for a real face in an odd but acceptable encoding, a screening).

Before decoding was bounded, the 166 KiB flat 6300 x 6300 RGBA PNG alone took a screening
process from about 190 to 800 MiB, and /dev/zero ended palsy-check in a MemoryError.

The peak is the kernel's: ru_maxrss of the palsy-check process, read by a small launcher that
waits for it (`RUSAGE_CHILDREN`). Not read from this test process directly: Linux carries a
parent's peak over fork and exec into the child's ru_maxrss, and pytest's own is large.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.reasons import Reason
from tests.proof.test_proof_bad_inputs import ENCODINGS, REFUSED
from tests.support.model_images import london

PEAK_LIMIT_MIB = 300
LAUNCHER = (
    "import resource, subprocess, sys\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    done = subprocess.run(sys.argv[2:], stdout=out)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(done.returncode)\n"
)
OK = "ok"  # screened: a face in an encoding that is odd but fits


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _flat(mode: str, size: tuple[int, int], colour: object = 128) -> Image.Image:
    return Image.new(mode, size, colour)  # type: ignore[arg-type]


def _palette_face(face: Image.Image, size: tuple[int, int]) -> bytes:
    """A face filling a big palette PNG with a transparent colour: quantized small, then
    enlarged in palette mode (fast), so every decoded pixel is a palette index."""
    small = face.quantize(255)
    big = small.resize(size, Image.Resampling.NEAREST)
    return _save(big, "PNG", transparency=0, compress_level=1)


def _grey16(image: Image.Image) -> Image.Image:
    return Image.fromarray(np.asarray(image.convert("L"), dtype=np.uint16) * 257)


def worst_cases(face: Image.Image) -> dict[str, tuple[Callable[[], bytes], str]]:
    """name -> (the file's bytes, the outcome: a Reason's value, or OK)."""
    grey = Reason.NO_FACE.value
    too_big = Reason.TOO_MANY_PIXELS.value
    face_4mp = face.resize((2400, 2400), Image.Resampling.BICUBIC)
    return {
        # The file: 166 KiB, 39.7 MP of RGBA that would take ~160 MiB as pixels.
        "flat RGBA PNG 6300x6300": (
            lambda: _save(_flat("RGBA", (6300, 6300), (200, 180, 160, 255)), "PNG"),
            too_big,
        ),
        "palette + transparency PNG, 39 MP, a face": (
            lambda: _palette_face(face, (6240, 6240)),
            OK,
        ),
        "16-bit grey PNG, 39 MP": (
            lambda: _save(_flat("I;16", (6240, 6240), 30000), "PNG"),
            too_big,
        ),
        "16-bit grey PNG, 6 MP, a face": (lambda: _save(_grey16(face_4mp), "PNG"), OK),
        "CMYK progressive JPEG, 35 MP": (
            lambda: _save(_flat("CMYK", (7000, 5000), (40, 30, 30, 10)), "JPEG", progressive=True),
            too_big,
        ),
        "CMYK baseline JPEG, 35 MP": (
            lambda: _save(_flat("CMYK", (7000, 5000), (40, 30, 30, 10)), "JPEG"),
            grey,
        ),
        "progressive JPEG, 35 MP": (
            lambda: _save(_flat("RGB", (7000, 5000)), "JPEG", progressive=True),
            too_big,
        ),
        "progressive JPEG, 6 MP, a face": (
            lambda: _save(face_4mp, "JPEG", progressive=True, quality=90),
            OK,
        ),
        "WebP, 24 MP": (lambda: _save(_flat("RGB", (6000, 4000)), "WEBP"), too_big),
        "RGBA PNG, 6 MP, a face": (lambda: _save(face_4mp.convert("RGBA"), "PNG"), OK),
    }


@pytest.fixture(scope="module")
def face(london_neutral: list[Path]) -> Image.Image:
    return london(london_neutral[4], 720)


def test_any_input_is_screened_within_bounded_memory(face: Image.Image, tmp_path: Path) -> None:
    expected: dict[str, str] = {}
    files: list[str] = []

    def add(name: str, data: bytes, outcome: str, suffix: str = ".img") -> None:
        path = tmp_path / f"{len(files):02d}{suffix}"
        path.write_bytes(data)
        files.append(str(path))
        expected[str(path)] = f"{name}: {outcome}"

    for name, (data, reasons) in REFUSED.items():
        add(name, data() if callable(data) else data, reasons[0].value)
    for name, encode in ENCODINGS.items():
        add(name, encode(face), OK)
    for name, (make, outcome) in worst_cases(face).items():
        add(name, make(), outcome)
    # Streams and files with no end in sight: read up to the limit, no further.
    sparse = tmp_path / "sparse.jpg"
    with sparse.open("wb") as file:
        file.truncate(4 << 30)  # 4 GiB of nothing on disk
    for name, path in (("/dev/zero", "/dev/zero"), ("a sparse 4 GiB file", str(sparse))):
        files.append(path)
        expected[path] = f"{name}: {Reason.TOO_MANY_BYTES.value}"

    out = tmp_path / "out.jsonl"
    checker = str(Path(sys.executable).with_name("palsy-check"))
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(out), checker, "--json", *files],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    peak_mib = int(done.stdout.strip()) / 1024
    got = {}
    for line in out.read_text().splitlines():
        result = json.loads(line)
        outcome = OK if result["status"] == "ok" else result.get("reason")
        got[result["path"]] = expected[result["path"]].split(": ")[0] + f": {outcome}"
    assert got == expected
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    # The process did load the models (else the peak says nothing), and stayed bounded.
    print(f"peak RSS {peak_mib:.0f} MiB")
    assert 60 < peak_mib < PEAK_LIMIT_MIB, f"peak RSS {peak_mib:.0f} MiB"
