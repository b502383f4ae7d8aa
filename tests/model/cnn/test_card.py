"""The shipped model card describes the shipped files: same hashes, same version, same metrics."""

from __future__ import annotations

import json
import re

import pytest

from model.cnn.classifier import DEFAULT_CLASSIFIER, Classifier, sha256_of

ASSETS = DEFAULT_CLASSIFIER.parent
CARD = ASSETS / "MODEL_CARD.md"


@pytest.mark.parametrize("name", ["classifier.onnx", "classifier.int8.onnx"])
def test_card_hashes_match_the_files(name: str) -> None:
    found = re.search(rf"`{re.escape(name)}`: .*?sha256 `([0-9a-f]{{64}})`", CARD.read_text())
    assert found, f"{name} missing from MODEL_CARD.md"
    assert found.group(1) == sha256_of(ASSETS / name), "regenerate the card: palsy-train card"


def test_card_names_the_shipped_version_and_accuracy() -> None:
    # The card is titled by the float32 network; the default is its int8 export.
    meta = Classifier(ASSETS / "classifier.onnx").metadata
    text = CARD.read_text()
    assert text.startswith(f"# Model card: palsy classifier `{meta['version']}`")
    assert Classifier().metadata["version"] == f"{meta['version']}+int8"
    assert meta["clinical_validation"] == "none" and "Not for clinical use" in text
    accuracy = json.loads(meta["metrics"])["accuracy"]
    assert f"| {accuracy:.4f} |" in text
