"""The classifier contract, as data: shared by serving, export, calibration, the card and tests.

- one float32 input `[N, INPUT_SIZE, INPUT_SIZE, 3]`, RGB 0-255 (the model rescales internally);
- one output, logits `[N, C]`;
- ONNX `metadata_props` as in `ClassifierMetadata` (keys in `Key`); `classes` is required;
- `input` says which crop the model wants (`ALIGNS`: levelled on the pupils, or on the facial
  midline) and what the graph does with it before its first layer (`MIRRORS`: nothing, or the
  crop minus its mirror image about the crop's vertical centre line). Serving builds the crop
  named; the mirror is inside the graph, so no caller can build it differently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from model.labels import parse_label

INPUT_SIZE = 224
# `clinical_validation` values that mean "not validated on real patients". Anything else is taken
# as a description of a validation study, so a missing or empty key counts as unvalidated.
NOT_VALIDATED = frozenset({"", "none", "no", "false", "unvalidated", "not validated"})
# `input.align`: "eyes" = `classifier_input(rgb, pupils)`; "midline" =
# `classifier_input(rgb, midline_eyes(mesh))` (model.face.preprocess). A model without the key
# wants "eyes" (every model before issue 21).
ALIGNS = ("eyes", "midline")
# `input.mirror`, done by the graph itself: "none", or "difference" (x - x mirrored left-right,
# after rescaling), which puts a one-sided droop in every pixel pair and cancels the symmetric
# face.
MIRRORS = ("none", "difference")


class ContractError(ValueError):
    """The ONNX file does not follow the classifier contract."""


class Key(StrEnum):
    CLASSES = "classes"  # JSON list of class names in output order (required)
    NAME = "name"
    VERSION = "version"
    DESCRIPTION = "description"  # what it was trained on
    CLINICAL_VALIDATION = "clinical_validation"  # "none", or a description of the study
    METRICS = "metrics"  # JSON of headline validation metrics
    CALIBRATION = "calibration"  # JSON: temperature baked into the graph and its effect
    VALIDATION_SUBJECTS = "validation_subjects"  # JSON list of people held out from training
    INPUT = "input"  # JSON {"align": ALIGNS, "mirror": MIRRORS}; missing: eyes, none


@dataclass(frozen=True)
class ClassifierMetadata:
    classes: tuple[str, ...]
    name: str | None = None
    version: str = "unknown"
    description: str = ""
    clinical_validation: str = "none"
    metrics: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] | None = None
    validation_subjects: tuple[str, ...] | None = None
    align: str = "eyes"
    mirror: str = "none"

    @property
    def clinically_validated(self) -> bool:
        return self.clinical_validation.strip().lower() not in NOT_VALIDATED

    def with_(self, **changes: Any) -> ClassifierMetadata:
        return replace(self, **changes)

    def to_props(self) -> dict[str, str]:
        """ONNX metadata_props."""
        props = {
            Key.CLASSES: json.dumps(list(self.classes)),
            Key.VERSION: self.version,
            Key.DESCRIPTION: self.description,
            Key.CLINICAL_VALIDATION: self.clinical_validation,
            Key.METRICS: json.dumps(self.metrics),
        }
        if self.name is not None:
            props[Key.NAME] = self.name
        if self.calibration is not None:
            props[Key.CALIBRATION] = json.dumps(self.calibration)
        if self.validation_subjects is not None:
            props[Key.VALIDATION_SUBJECTS] = json.dumps(sorted(set(self.validation_subjects)))
        props[Key.INPUT] = json.dumps({"align": self.align, "mirror": self.mirror})
        return {str(k): v for k, v in props.items()}

    @classmethod
    def from_props(cls, props: Mapping[str, str], where: str = "classifier") -> ClassifierMetadata:
        """Read metadata_props; raises `ContractError` naming the broken rule."""
        where = f"{where}: classifier contract:"
        raw = props.get(Key.CLASSES)
        if raw is None:
            raise ContractError(f"{where} metadata key 'classes' is missing")
        try:
            classes = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ContractError(f"{where} 'classes' is not JSON: {exc}") from None
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
            raise ContractError(f"{where} 'classes' must be a JSON list of strings")
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ContractError(f"{where} 'classes' needs two or more distinct names: {classes}")
        for name in classes:
            try:
                parse_label(name)
            except ValueError as exc:
                raise ContractError(f"{where} {exc}") from None

        def loaded(key: Key) -> Any:
            value = props.get(key)
            try:
                return json.loads(value) if value else None
            except json.JSONDecodeError:
                return None

        subjects = loaded(Key.VALIDATION_SUBJECTS)
        spec = {"align": "eyes", "mirror": "none"}
        if props.get(Key.INPUT):
            given = loaded(Key.INPUT)
            if not isinstance(given, dict) or set(given) - set(spec):
                raise ContractError(f"{where} 'input' must be a JSON object with align, mirror")
            spec |= given
        if spec["align"] not in ALIGNS or spec["mirror"] not in MIRRORS:
            raise ContractError(
                f"{where} 'input' wants align in {ALIGNS} and mirror in {MIRRORS}: {spec}"
            )
        return cls(
            classes=tuple(classes),
            name=props.get(Key.NAME) or None,
            version=props.get(Key.VERSION, "unknown"),
            description=props.get(Key.DESCRIPTION, ""),
            clinical_validation=props.get(Key.CLINICAL_VALIDATION, ""),
            metrics=loaded(Key.METRICS) or {},
            calibration=loaded(Key.CALIBRATION),
            validation_subjects=tuple(subjects) if isinstance(subjects, list) else None,
            align=spec["align"],
            mirror=spec["mirror"],
        )
