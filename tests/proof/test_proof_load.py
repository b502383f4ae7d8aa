"""bench/load_no_loss.py, scaled down: the real bot process answers every photo once and logs
every screening once, with memory flat. The full run (2,000 photos) is a bench, not a test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_load_without_loss_scaled_down() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.load_no_loss", "--photos", "60", "--users", "6"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert all(figures["checks"].values()), figures["checks"]
    assert figures["database_rows"] == figures["photos_sent"] == figures["replies"] >= 60
