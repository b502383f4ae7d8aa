"""The run folder's typed records: what the train step writes through them is what its raw
JSON held before (issue 24), and each reads back to the same JSON.

docs/shipped_model/runs/v4/report.json is the shipped model's report.json (written by
the train step before it wrote through `Report`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training.cnn.run import Report, Split, SplitInfo, TrainConfig, record, to_json, write_record

REPORT = (
    Path(__file__).resolve().parents[3] / "docs" / "shipped_model" / "runs" / "v4" / "report.json"
)


def _without_nulls(raw: Any) -> Any:
    """A writer's JSON as records write it: an optional value it had nothing for is left out."""
    if isinstance(raw, dict):
        return {k: _without_nulls(v) for k, v in raw.items() if v is not None}
    if isinstance(raw, list):
        return [_without_nulls(v) for v in raw]
    return raw


def test_the_report_record_keeps_everything_the_raw_report_held() -> None:
    raw = json.loads(REPORT.read_text())
    report = record(Report, raw)
    assert isinstance(report.config, TrainConfig) and report.config.patience == 5
    assert report.config.data == Path("data/synth1")
    assert report.validation.per_class["normal"].support == 42
    assert to_json(report) == _without_nulls(raw)


def test_split_json_reads_back_as_written(tmp_path: Path) -> None:
    info = record(SplitInfo, json.loads(REPORT.read_text())["split"])
    split = Split(info, [0, 3, 4], [1, 2])
    path = write_record(tmp_path / "split.json", split)
    raw = json.loads(path.read_text())
    assert raw["train"] == [0, 3, 4] and raw["used"] == "grouped" and "info" not in raw
    assert Split.from_json(raw) == split
