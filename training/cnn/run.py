"""The run folder as a typed record: what each lifecycle step wrote, read by every later step.

`palsy-train train` writes REPORT (a `Report`), SPLIT (a `Split`), HISTORY, DATASET and MODEL;
`export` adds EXPORT; `calibrate` adds CALIBRATION; `card` and `evaluate` only read. Each writer
writes its record (`write_record`); `Run.load(path)` gives all of it typed (EXPORT and
CALIBRATION are None until those steps ran), so no step reads or writes raw JSON keys.
`TrainConfig` (the train step's settings) is here because report.json holds it.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from model import INPUT_SIZE
from training.cnn.data import Data, load

REPORT = "report.json"
SPLIT = "split.json"
HISTORY = "history.json"
DATASET = "dataset.json"
EXPORT = "export.json"
CALIBRATION = "calibration.json"
MODEL = "model.keras"

R = TypeVar("R")


@dataclass
class TrainConfig:
    """`palsy-train train`'s settings (report.json's `config`)."""

    data: Path
    out: Path
    split: str = "grouped"
    validation_split: float = 0.2
    seed: int = 123
    epochs: int = 50
    batch_size: int = 16
    augment: bool = False
    size: int = INPUT_SIZE  # the contract; smaller only for tests
    cache_dir: Path | None = Path("cache")
    learning_rate: float = 1e-3  # Keras' Adam default, as in the paper
    # Stop after the epoch that would otherwise overrun this many seconds of fitting (None: never).
    time_budget_s: float | None = None
    threads: int = 2
    progress: bool = True
    # The classifier contract's `input` (model.cnn.contract): which crop, and what the graph
    # does with it first. Defaults: the paper's (and every model before issue 21).
    align: str = "eyes"
    mirror: str = "none"
    # Stop when the validation loss has not improved for this many epochs and keep the best
    # epoch's weights (None: run every epoch, keep the last, as the paper does).
    patience: int | None = None


def _key(f: dataclasses.Field[Any]) -> str:
    """The JSON key of a field (some keys are not identifiers)."""
    return str(f.metadata.get("key", f.name))


def _convert(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(kind, types.UnionType):  # `X | None`
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return record(kind, value)
    if typing.get_origin(kind) is dict:
        inner = typing.get_args(kind)[1]
        return {k: _convert(inner, v) for k, v in value.items()}
    if kind is Path:
        return Path(value)
    return value


def record(cls: type[R], raw: dict[str, Any]) -> R:
    """A dataclass from its JSON object, nested records included; unknown keys are ignored (a
    newer writer), missing keys take the field's default (an older writer)."""
    hints = typing.get_type_hints(cls)
    values = {
        f.name: _convert(hints[f.name], raw[_key(f)])
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if _key(f) in raw
    }
    return cls(**values)


def to_json(rec: Any) -> dict[str, Any]:
    """The JSON object of a record (the inverse of `record`). An optional field left at None is
    left out: the writer had nothing to say."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(rec):
        value = getattr(rec, f.name)
        if value is None and f.default is None:
            continue
        out[_key(f)] = _json_value(value)
    return out


def _json_value(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def write_record(path: Path, rec: Any) -> Path:
    """A record's JSON file, as `record` reads it back (or, for a record with a JSON shape of its
    own such as `Split`, as its `from_json` does)."""
    own = getattr(rec, "to_json", None)
    return write_json(path, own() if callable(own) else to_json(rec))


def _read(path: Path) -> Any:
    return json.loads(path.read_text())


@dataclass(frozen=True)
class Leakage:
    """One split's validation images that a near-duplicate or a person links to train
    (`training.cnn.splits.leakage`, plus the split's sizes)."""

    validation_images: int
    near_duplicate_in_train: int
    hamming_threshold_bits: int
    train_images: int
    near_duplicate_in_train_fraction: float = 0.0
    subject_in_train: int | None = None
    train_subjects: int | None = None
    validation_subjects: int | None = None


@dataclass(frozen=True)
class SplitInfo:
    """How the run split its images, with the leakage of both splits (`splits.make_split`)."""

    used: str
    group_source: str
    paper: Leakage
    grouped: Leakage
    near_duplicate_pairs: int = 0
    groups: int = 0

    @property
    def chosen(self) -> Leakage:
        return self.paper if self.used == "paper" else self.grouped


@dataclass(frozen=True)
class Split:
    """split.json: the split's figures and its image indices."""

    info: SplitInfo
    train: list[int]
    validation: list[int]

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Split:
        return cls(record(SplitInfo, raw), list(raw["train"]), list(raw["validation"]))

    def to_json(self) -> dict[str, Any]:
        """split.json: the figures at the top level, beside the indices (`from_json`)."""
        return {**to_json(self.info), "train": self.train, "validation": self.validation}


@dataclass(frozen=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Metrics:
    """`training.cnn.metrics.metrics`: the headline, per-class and coarse (triage) figures."""

    n: int
    accuracy: float
    loss: float
    macro_f1: float
    ece: float
    ece_bins: int
    per_class: dict[str, ClassScores]
    classes: list[str]
    confusion_matrix: list[list[int]]
    region_accuracy: float | None = None
    sensitivity: float | None = None
    specificity: float | None = None


@dataclass(frozen=True)
class DatasetStats:
    """`training.cnn.data.dataset_stats` (report.json keeps it without the file list)."""

    root: str
    images: int
    classes: list[str]
    per_class: dict[str, int]
    faces_not_found: int
    unreadable: list[str] = field(default_factory=list)
    subjects: int | None = None


@dataclass(frozen=True)
class Report:
    """report.json: what `palsy-train train` did and how the final epoch scored."""

    config: TrainConfig
    dataset: DatasetStats
    split: SplitInfo
    validation: Metrics
    epochs_run: int
    seconds_per_epoch_median: float | None = None
    preprocess_seconds: float | None = None
    parameters: int | None = None  # of the Keras model (older runs: count `Run.parameters`)


@dataclass(frozen=True)
class Int8Export:
    bytes: int
    f32_bytes: int
    top1_agreement_with_f32: float
    max_abs_logit_diff_vs_f32: float
    accuracy: float | None = None


@dataclass(frozen=True)
class Export:
    """export.json: the ONNX file `palsy-train export` wrote and its parity with Keras."""

    onnx: Path
    bytes: int
    parity_max_abs_logit_diff: float
    parity_images: int
    int8: Int8Export | None  # with `--int8`: the quantised variant against float32
    metadata: dict[str, str]  # the ONNX metadata_props (model.cnn.contract.ClassifierMetadata)


# The calibration figures count the images whose top probability reaches this.
CONFIDENT = 0.5
CONFIDENT_KEY = f"share_top_probability_ge_{CONFIDENT:g}"


@dataclass(frozen=True)
class Calibrated:
    """Calibration figures at one temperature (`training.cnn.calibrate.calibration_report`)."""

    nll: float
    ece: float
    mean_top_probability: float
    share_top_probability_ge_confident: float = field(metadata={"key": CONFIDENT_KEY})


@dataclass(frozen=True)
class Calibration:
    """One model file's entry in calibration.json."""

    temperature: float
    validation_images: int
    before: Calibrated
    after: Calibrated


@dataclass(frozen=True)
class Run:
    """A run folder, read once: `Run.load(path)`."""

    path: Path
    report: Report
    split: Split
    history: dict[str, list[float]] | None = None
    export: Export | None = None
    calibration: dict[str, Calibration] | None = None  # by model file name

    @classmethod
    def load(cls, path: Path) -> Run:
        def optional(name: str) -> Any:
            return _read(path / name) if (path / name).is_file() else None

        exported, calibrated = optional(EXPORT), optional(CALIBRATION)
        return cls(
            path=path,
            report=record(Report, _read(path / REPORT)),
            split=Split.from_json(_read(path / SPLIT)),
            history=optional(HISTORY),
            export=None if exported is None else record(Export, exported),
            calibration=None
            if calibrated is None
            else {k: record(Calibration, v) for k, v in calibrated.items()},
        )

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def model_path(self) -> Path:
        return self.path / MODEL

    def parameters(self) -> int:
        """The network's parameter count: from the report, or (older runs) from the model."""
        if self.report.parameters is not None:
            return self.report.parameters
        from training.cnn import network

        return int(network.load(self.model_path).count_params())

    def data(self) -> Data:
        """The run's dataset, prepared as training saw it (from the preprocessing cache)."""
        conf = self.report.config
        return load(conf.data, conf.size, conf.cache_dir, align=conf.align)

    def held_out(self, subjects: list[str] | None) -> list[str] | None:
        """People with validation images and no training image (a random split may have none)."""
        if not subjects:
            return None
        trained = {subjects[i] for i in self.split.train}
        return sorted({subjects[i] for i in self.split.validation} - trained)
