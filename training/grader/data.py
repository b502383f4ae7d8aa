"""The grader's data: facial measures (and CNN probabilities) of healthy and synthetic palsy photos.

Healthy: the London photos themselves (neutral and smiling, real faces) and the synthetic set's
`normal` class (the same faces with a small natural jitter and phone-like framing, light, blur and
JPEG). Palsy: the synthetic set's six palsy classes, with the side and size of the applied warp
from its `manifest.csv`. Every photo goes through serving's own `Analyser.analyse` (decode, face,
quality gate, mesh, measures, crop) and `Analyser.cnn_probabilities`, so fitting and serving
measure the same way. Rows are cached as JSON keyed by the files and the code that measures them.
With `palsy-train cv-cnn`'s out-of-fold probabilities (`out_of_fold`), each row's CNN
probabilities come from a CNN that never saw its person.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from model import Rejected
from model.decision.grader import features_of
from training.common import code_digest

DATA_NOTE = (
    "healthy: Face Research Lab London Set (DeBruine & Jones 2017, CC BY 4.0), real neutral and "
    "smiling photos, plus the synthetic set's normal class; palsy: palsy-train synth one-sided "
    "warps of the same people"
)


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


def load_rows(
    london: Path, synth: Path, cache: Path, classifier: Path | None, limit: int | None = None
) -> tuple[list[Row], Any]:
    """Measured rows of the London photos and the synthetic set, through serving's `Analyser`
    (returned too: its classifier is the CNN the rows carry)."""
    from model import Analyser

    screener = Analyser(classifier)
    items = london_items(london) + synth_items(synth)
    if limit:
        keep = sorted({r.subject for r in items})[:limit]
        items = [r for r in items if r.subject in keep]
    return measure_rows(items, screener, cache), screener


def usable(rows: Sequence[Row]) -> list[Row]:
    """The rows the quality gate let through."""
    return [r for r in rows if r.rejected is None]


def with_oof(rows: list[Row], oof: dict[str, dict[str, float]]) -> list[Row]:
    """The usable rows whose photo has an out-of-fold CNN probability, carrying it as `cnn`."""
    return [replace(r, cnn=oof[r.file]) for r in usable(rows) if r.file in oof]


def out_of_fold(rows: list[Row], cnn_oof: Path | None) -> list[Row]:
    """The rows with the CNN probabilities of `palsy-train cv-cnn` (each from a CNN that never
    saw the person) in place of the installed classifier's; unchanged without a file."""
    if cnn_oof is None:
        return rows
    oof = json.loads(cnn_oof.read_text())
    return with_oof(rows, oof) + [r for r in rows if r.rejected is not None]
