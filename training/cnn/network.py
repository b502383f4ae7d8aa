"""The paper's CNN (Dua & Sharma 2025) in Keras. Building it imports TensorFlow; its settings
(read by the model card) do not."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model import INPUT_SIZE

if TYPE_CHECKING:
    import keras

FILTERS = (16, 32, 64, 128)
KERNEL = 3
DROPOUT = 0.25
DENSE_UNITS = 256


@functools.cache
def _mirror_class() -> type:
    import keras

    @keras.saving.register_keras_serializable(package="palsy")
    class MirrorDifference(keras.layers.Layer):  # type: ignore[misc]
        """x - x mirrored left-right (the width axis)."""

        def call(self, x: Any) -> Any:
            return x - keras.ops.flip(x, axis=2)

    return MirrorDifference


def mirror_layer() -> keras.layers.Layer:
    """x - x mirrored left-right: the contract's `input.mirror = "difference"`. On a crop whose
    vertical centre line is the facial midline, a symmetric face cancels and a one-sided droop
    shows twice, with opposite signs on the two sides. No weights; exports to ONNX as a Slice
    with step -1 and a Sub."""
    layer: keras.layers.Layer = _mirror_class()(name="mirror_difference")
    return layer


def load(path: Path | str) -> keras.Model:
    """A saved model of this module (its custom layer registered first)."""
    import keras

    _mirror_class()
    return keras.models.load_model(path)


def paper_cnn(n_classes: int, size: int = INPUT_SIZE, mirror: str = "none") -> keras.Model:
    """Rescaling(1/255); 4 x [Conv2D 3x3 relu 'same', MaxPooling2D, Dropout 0.25]; Flatten;
    Dense(256, relu); Dense(n_classes) logits. 6,521,766 parameters for six classes at 224.
    `mirror="difference"` puts `mirror_layer` after the rescaling (no parameters added)."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(size, size, 3), dtype="float32", name="image")
    x = layers.Rescaling(1.0 / 255)(inputs)
    if mirror == "difference":
        x = mirror_layer()(x)
    elif mirror != "none":
        raise ValueError(f"unknown mirror {mirror!r}")
    for filters in FILTERS:
        x = layers.Conv2D(filters, KERNEL, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(DROPOUT)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(DENSE_UNITS, activation="relu")(x)
    outputs = layers.Dense(n_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="paper_cnn")


def compile_paper(model: keras.Model, learning_rate: float = 1e-3) -> keras.Model:
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model
