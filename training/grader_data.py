"""The grader's data: facial measures (and CNN probabilities) of healthy and synthetic palsy photos.

Healthy: the London photos themselves (neutral and smiling, real faces) and the synthetic set's
`normal` class (the same faces with a small natural jitter and phone-like framing, light, blur and
JPEG). Palsy: the synthetic set's six palsy classes, with the side and size of the applied warp
from its `manifest.csv`. Every photo goes through serving's own `Screener.analyse` (decode, face,
quality gate, mesh, measures, crop) and `Screener.cnn_probabilities`, so fitting and serving
measure the same way. Rows are cached as JSON keyed by the files and the code that measures them.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from model.decision.grader import features_of
from model.reasons import Rejected
from training.cache_key import model_digest


@dataclass
class Row:
    """One photo's measures. `side` is the subject's side of the applied palsy (None: healthy)."""

    file: str
    subject: str
    source: str  # "london" (real photo) or "synth"
    photo: str  # "neutral" or "smiling"
    label: str
    side: str | None = None
    applied: dict[str, float] = field(default_factory=dict)
    rejected: str | None = None
    asym: dict[str, float] = field(default_factory=dict)
    cnn: dict[str, float] = field(default_factory=dict)


def london_items(london: Path) -> list[Row]:
    rows = []
    for kind, pattern in (("neutral", "*_03.jpg"), ("smiling", "*_08.jpg")):
        for path in sorted((london / kind).glob(pattern)):
            rows.append(Row(str(path), path.stem.split("_")[0], "london", kind, "normal"))
    return rows


def synth_items(synth: Path) -> list[Row]:
    rows = []
    with open(synth / "manifest.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            # The manifest names image sides; un-mirrored, the image's left is the subject's right.
            side = {"image_left": "right", "image_right": "left"}.get(r["side"])
            applied = json.loads(r["params_ipd"]) if r["params_ipd"] else {}
            rows.append(
                Row(str(synth / r["file"]), r["subject"], "synth", r["photo"], r["class"], side,
                    applied)
            )  # fmt: skip
    return rows


def code_digest(screener: Any) -> Any:
    """A running SHA-256 of model/ and the classifier in use: part of every cache key."""
    digest = model_digest()
    digest.update(screener.classifier.info.sha256.encode())
    return digest


def _cache_key(items: list[Row], screener: Any) -> str:
    digest = code_digest(screener)
    for item in items:
        path = Path(item.file)
        digest.update(f"{item.file}|{item.label}|{path.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def measure_rows(items: list[Row], screener: Any, cache: Path | None = None) -> list[Row]:
    """Fill `asym`, `cnn` (or `rejected`) of each row through the serving path; cached."""
    from tqdm import tqdm

    path = cache / f"grader-rows-{_cache_key(items, screener)}.json" if cache else None
    if path is not None and path.is_file():
        return [Row(**r) for r in json.loads(path.read_text())]
    for row in tqdm(items, desc="measure", mininterval=5):
        try:
            found = screener.analyse(Path(row.file).read_bytes())
        except Rejected as exc:
            row.rejected = exc.reason.value
            continue
        assert found.measures is not None and found.crop is not None
        row.asym = features_of(found.measures, found.expression)
        row.cnn = screener.cnn_probabilities(found.crop)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([asdict(r) for r in items]))
    return items
