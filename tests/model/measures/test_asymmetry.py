"""Facial measures: exact geometry on a real mesh, then directional tests through the real models.

Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0 (warped on the fly).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from model.face.decode import decode_image
from model.face.faces import FaceDetector
from model.face.landmarks import LandmarkModel
from model.face.quality import main_face
from model.measures.asymmetry import FEATURES, measure
from tests.support.model_images import jpeg, london
from tests.support.palsy_photos import TEM_BROW_LEFT, TEM_MOUTH_LEFT
from tests.support.palsy_photos import droop as _warped

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def models() -> tuple[FaceDetector, LandmarkModel]:
    return FaceDetector(), LandmarkModel()


def _mesh(models: tuple[FaceDetector, LandmarkModel], rgb: np.ndarray) -> np.ndarray:
    detector, mesh = models
    rgb = decode_image(jpeg(rgb, quality=95))
    return mesh.landmarks(rgb, main_face(detector.detect(rgb)))


def test_roll_scale_and_position_do_not_change_any_measure(
    london_neutral: list[Path], models: tuple[FaceDetector, LandmarkModel]
) -> None:
    mesh = _mesh(models, np.asarray(london(london_neutral[3])))
    base = measure(mesh).to_dict()
    for degrees, scale in ((-20.0, 0.4), (13.0, 2.5)):
        t = math.radians(degrees)
        rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]]) * scale
        moved = measure(mesh[:, :2] @ rot.T + (40.0, -75.0)).to_dict()
        for name, value in base.items():
            assert moved[name] == pytest.approx(value, abs=1e-3), name


def test_mirrored_mesh_flips_every_signed_measure(
    london_neutral: list[Path], models: tuple[FaceDetector, LandmarkModel]
) -> None:
    rgb = _warped(london_neutral[12], {(TEM_MOUTH_LEFT,): 0.15, TEM_BROW_LEFT: 0.15})
    plain = measure(_mesh(models, rgb)).asymmetries()
    mirrored = measure(_mesh(models, np.ascontiguousarray(rgb[:, ::-1]))).asymmetries()
    assert set(plain) == set(FEATURES)
    assert plain["mouth"] > 0.03 and plain["brow"] > 0.01  # the subject's left droops
    for name in FEATURES:
        # Same photo, mirrored: the mesh refits, so signs flip within the mesh's own jitter.
        assert mirrored[name] == pytest.approx(-plain[name], abs=0.25 * abs(plain[name]) + 0.01)


WARPS = (0.0, 0.05, 0.10, 0.15, 0.20)  # in pupil distances


@pytest.mark.parametrize(("group", "name"), [((TEM_MOUTH_LEFT,), "mouth"), (TEM_BROW_LEFT, "brow")])
@pytest.mark.parametrize("person", [0, 40, 80])
def test_each_measure_grows_with_a_one_sided_warp_of_its_feature(
    london_neutral: list[Path],
    models: tuple[FaceDetector, LandmarkModel],
    person: int,
    group: tuple[int, ...],
    name: str,
) -> None:
    photo = london_neutral[person]
    values = [measure(_mesh(models, _warped(photo, {group: d}))).asymmetries()[name] for d in WARPS]
    assert all(b > a for a, b in itertools.pairwise(values)), values
    assert values[-1] - values[0] > 0.02  # the mesh follows part of a 0.2 IPD (13 mm) droop


def test_a_mouth_droop_does_not_read_as_a_brow_droop(
    london_neutral: list[Path], models: tuple[FaceDetector, LandmarkModel]
) -> None:
    plain = measure(_mesh(models, _warped(london_neutral[20], {}))).asymmetries()
    drooped = measure(
        _mesh(models, _warped(london_neutral[20], {(TEM_MOUTH_LEFT,): 0.2}))
    ).asymmetries()
    assert drooped["mouth"] - plain["mouth"] > 0.03
    assert drooped["brow"] - plain["brow"] < 0.02  # no brow droop on the same side
