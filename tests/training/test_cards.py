"""The shipped cards are what their commands write from the records they were written from
(docs/shipped_model/): `GRADER_CARD.md` from `evaluate-grader`'s report, `EXAM_CARD.md` from
`evaluate-exam`'s, `MODEL_CARD.md` from the run of the shipped CNN and its cross-validation by
`docs/shipped_model/make_card.sh`. A change to a card's template, or to how the records are
read, shows here byte for byte: rerun the card's command (README) and copy its report here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from training.exam.card import card_text as exam_card
from training.grader.card import card_text as grader_card
from training.grader.card import external_results

REPO = Path(__file__).resolve().parents[2]
RECORDS = REPO / "docs" / "shipped_model"
ASSETS = REPO / "model" / "assets"


def _report(name: str) -> dict:
    return json.loads((RECORDS / name).read_text())


@pytest.mark.data  # the card quotes the external evaluation beside the face data
def test_the_grader_card_is_its_report_rendered(london_dir: Path) -> None:
    text = grader_card(_report("grader_evaluation.json"), external_results(london_dir))
    assert text == (ASSETS / "GRADER_CARD.md").read_text()


def test_the_exam_card_is_its_report_rendered() -> None:
    assert exam_card(_report("exam_evaluation.json")) == (ASSETS / "EXAM_CARD.md").read_text()


def test_the_model_card_is_its_run_rendered_by_its_script(tmp_path: Path) -> None:
    """make_card.sh, run where the run's records and the shipped files lie as it expects."""
    for folder in ("runs", "data"):
        shutil.copytree(RECORDS / folder, tmp_path / folder)
    for name in ("classifier.onnx", "classifier.int8.onnx"):  # the card names their hashes
        (tmp_path / "runs" / "v4" / name).symlink_to(ASSETS / name)
    out = tmp_path / "MODEL_CARD.md"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "PYTHONPATH": str(REPO)}  # fmt: skip
    done = subprocess.run(
        ["bash", str(RECORDS / "make_card.sh"), "--out", str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_text() == (ASSETS / "MODEL_CARD.md").read_text()
