"""The paper's CNN, layer by layer, and its parameter count."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.train
keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")

from training.cnn import paper_cnn  # noqa: E402


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
