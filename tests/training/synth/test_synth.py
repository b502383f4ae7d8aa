"""Synthetic palsy: one side moves, in the documented direction and range; the set gets written."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.__main__ import main
from training.synth import (
    CLASSES,
    JITTER_IPD,
    SEVERITY,
    displacement,
    sample_palsy,
    tem_points,
)

pytestmark = pytest.mark.data
SLACK = 2 * JITTER_IPD * 1.5  # the per-group jitter, both axes


def _moves(fp, label: str, seed: int):
    rng = np.random.default_rng(seed)
    palsy = sample_palsy(label, rng)
    moves = displacement(fp, palsy, rng)
    delta = (moves.dst - moves.src) / fp.ipd
    out = {}
    for name in fp.groups:
        for s in (0, 1):
            rows = [i for i, (g, side) in enumerate(zip(moves.group, moves.side, strict=True))
                    if g == name and side == s]  # fmt: skip
            out[name, s] = delta[rows]
    fixed = [i for i, g in enumerate(moves.group) if g in ("pin", "pupil")]
    return palsy, out, delta[fixed]


def test_severity_ranges_do_not_overlap() -> None:
    for table in SEVERITY.values():
        for part in range(len(table["mild"])):
            assert table["mild"][part][1] <= table["moderate"][part][0]
            assert table["moderate"][part][1] <= table["severe"][part][0]


@pytest.mark.parametrize("seed", range(4))
def test_one_side_moves_the_right_way(london_neutral: list[Path], seed: int) -> None:
    fp = tem_points(london_neutral[seed].with_suffix(".tem"))
    for label in CLASSES:
        palsy, moves, anchors = _moves(fp, label, seed)
        assert np.abs(anchors).max() == 0
        if palsy.side is None:
            assert all(np.abs(m).max() <= SLACK for m in moves.values()), label
            continue
        s, other = palsy.side, 1 - palsy.side
        p = palsy.params
        if "corner_drop" in p:
            assert moves["mouth_corner", s][0, 1] == pytest.approx(p["corner_drop"], abs=SLACK)
            assert np.abs(moves["mouth_corner", other]).max() <= SLACK
            assert np.abs(moves["lower_lid", s]).max() <= SLACK
        else:
            widening = moves["lower_lid", s][:, 1].mean() - moves["upper_lid", s][:, 1].mean()
            assert widening > p["lid_drop"] * 0.6 - SLACK
            assert moves["brow", s][:, 1].mean() > p["brow_drop"] * 0.6 - SLACK
            assert np.abs(moves["brow", other]).max() <= SLACK
            assert np.abs(moves["mouth_corner", s]).max() <= SLACK


def test_synth_command_writes_a_folder_per_class_set(
    london_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, sheet = tmp_path / "set", tmp_path / "sheet.jpg"
    args = ["synth", "--london", str(london_dir), "--out", str(out), "--variants", "1",
            "--limit", "1", "--workers", "1", "--contact-sheet", str(sheet)]  # fmt: skip
    assert main(args) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["per_class"] == {c: 2 for c in CLASSES}  # neutral + smiling photo
    assert json.loads((out / "synth_stats.json").read_text())["per_class"] == stats["per_class"]
    rows = list(csv.DictReader(open(out / "subjects.csv")))
    assert {r["subject"] for r in rows} == {"001"} and len(rows) == 14
    img = Image.open(out / rows[0]["file"])
    assert img.size == (512, 512)
    assert Image.open(sheet).width == 144 * len(CLASSES)
    assert main(["synth", "--london", str(tmp_path), "--out", str(out)]) == 2  # no London set
