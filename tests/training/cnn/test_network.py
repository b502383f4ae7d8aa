"""The paper's CNN, layer by layer, and its parameter count."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.train
keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")

from training.cnn.network import paper_cnn  # noqa: E402


@pytest.mark.parametrize(("n_classes", "params"), [(6, 6_521_766), (7, 6_522_023)])
def test_paper_architecture(n_classes: int, params: int) -> None:
    model = paper_cnn(n_classes)
    assert model.count_params() == params
    kinds = [type(layer).__name__ for layer in model.layers[1:]]
    assert kinds == [
        "Rescaling",
        *["Conv2D", "MaxPooling2D", "Dropout"] * 4,
        "Flatten",
        "Dense",
        "Dense",
    ]
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [16, 32, 64, 128]
    assert all(c.kernel_size == (3, 3) and c.padding == "same" for c in convs)
    assert all(c.activation.__name__ == "relu" for c in convs)
    drops = [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert drops == [0.25] * 4
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [256, n_classes]
    assert dense[0].activation.__name__ == "relu"
    assert dense[1].activation.__name__ == "linear"  # logits
    rescale = model.layers[1]
    assert rescale.scale == pytest.approx(1 / 255)
    assert model.input_shape == (None, 224, 224, 3)


def test_mirror_difference_is_in_the_graph_and_survives_export(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The contract's `input.mirror = "difference"`: the exported graph itself subtracts the
    mirror image, so any two left-right symmetric pictures give the same logits, and serving
    needs no step of its own (it builds the crop `input.align` names)."""
    pytest.importorskip("tf2onnx")
    import numpy as np

    from model.cnn.classifier import Classifier
    from training.cnn.export import export, metadata_for

    keras.utils.set_random_seed(0)
    model = paper_cnn(7, mirror="difference")
    assert model.count_params() == 6_522_023  # no weights of its own
    assert model.layers[2].name == "mirror_difference"
    rng = np.random.default_rng(0)
    half = rng.integers(0, 256, (3, 224, 112, 3)).astype(np.float32)
    symmetric = np.concatenate([half, half[:, :, ::-1]], axis=2)
    classes = ["mild_eye", "mild_mouth", "moderate_eye", "moderate_mouth", "normal",
               "severe_eye", "severe_mouth"]  # fmt: skip
    meta = metadata_for(classes, "t", "test", {}, align="midline", mirror="difference")
    path = tmp_path / "m.onnx"
    images = np.concatenate([symmetric, rng.integers(0, 256, (2, 224, 224, 3)).astype(np.float32)])
    result = export(model, images, path, meta)
    assert result.max_abs_logit_diff <= 1e-4
    clf = Classifier(path)
    assert (clf.contract.align, clf.contract.mirror) == ("midline", "difference")
    probs = clf.predict(images)
    assert np.allclose(probs[0], probs[1], atol=1e-6) and np.allclose(probs[0], probs[2], atol=1e-6)
    assert not np.allclose(probs[3], probs[4], atol=1e-4)  # asymmetric pictures differ
