"""Fixtures of the bot's end-to-end and conversation tests: one running bot per kind (see
tests/support/bot_rigs.py) for each test module, and the photos they send."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support.bot_rigs import Rig
from tests.support.model_images import jpeg


@pytest.fixture(scope="module")
def rigs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Rig]]:
    root = tmp_path_factory.mktemp("bot-e2e")
    made: dict[str, Rig] = {}

    class Lazy(dict):  # type: ignore[type-arg]
        def __missing__(self, kind: str) -> Rig:
            self[kind] = made[kind] = Rig(root, kind)  # one rig per kind for the module
            return made[kind]

    yield Lazy()
    for rig in made.values():
        rig.close()


@pytest.fixture(scope="module")
def healthy(rigs: dict[str, Rig]) -> Rig:
    return rigs["healthy"]


@pytest.fixture(scope="module")
def no_face_jpeg() -> bytes:
    ramp = np.linspace(60, 200, 640, dtype=np.uint8)
    pixels = np.repeat(np.tile(ramp, (480, 1))[:, :, None], 3, axis=2)
    return jpeg(Image.fromarray(pixels), 90)


@pytest.fixture(scope="module")
def face_jpeg(london_neutral: list[Path]) -> bytes:
    return london_neutral[0].read_bytes()


@pytest.fixture(scope="module")
def two_faces_jpeg(london_neutral: list[Path]) -> bytes:
    faces = [Image.open(p).convert("RGB").resize((600, 600)) for p in london_neutral[:2]]
    canvas = Image.new("RGB", (1200, 600))
    canvas.paste(faces[0], (0, 0))
    canvas.paste(faces[1], (600, 0))
    return jpeg(canvas, 90)
