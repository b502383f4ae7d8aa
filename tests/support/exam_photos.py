"""Photos for the FAST exam tests: a London person's rest and smile, and training's warps of
them (`training.exam.photos`: smile failures, raised brows, camera changes).

Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0 (warped on the fly).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from model.pipeline import Analyser
from tests.support.model_images import jpeg
from training.exam.photos import CAMERA, failed_smile, raised_brows

# An example whose warped one-sided failure the mesh follows (the exam card gives the rate).
PERSON = "026"


def exam_photos(london_dir: Path, analyser: Analyser, person: str = PERSON) -> dict[str, bytes]:
    """Rest, smile, a right-sided smile failure (and its mirror), raised brows (both, or only
    the strong left side's), as JPEG bytes."""
    rest_path = london_dir / "neutral" / f"{person}_03.jpg"
    smile_path = london_dir / "smiling" / f"{person}_08.jpg"
    rest_rgb = np.asarray(Image.open(rest_path).convert("RGB"))
    smile_rgb = np.asarray(Image.open(smile_path).convert("RGB"))
    rest = analyser.analyse(rest_path.read_bytes())
    smile = analyser.analyse(smile_path.read_bytes())
    assert rest.mesh is not None and smile.mesh is not None
    rest_mesh, smile_mesh = rest.mesh * rest.scale, smile.mesh * smile.scale  # photo pixels
    # Image side 0 is the subject's right in an un-mirrored photo.
    failed = failed_smile(smile_rgb, smile_mesh, rest_mesh, 0, 1.0)
    return {
        "rest": rest_path.read_bytes(),
        "smile": smile_path.read_bytes(),
        "failed": jpeg(failed),
        "failed_mirrored": jpeg(np.ascontiguousarray(failed[:, ::-1])),
        "rest_mirrored": jpeg(np.ascontiguousarray(rest_rgb[:, ::-1])),
        "brows_both": jpeg(raised_brows(rest_rgb, rest_mesh, (0, 1))),
        "brows_left_only": jpeg(raised_brows(rest_rgb, rest_mesh, (1,))),
    }


def smiles_under_camera_changes(
    london_dir: Path, analyser: Analyser, person: str = PERSON
) -> dict[str, bytes]:
    """The person's smile photo under each camera change training simulates (`CAMERA`: nearer,
    tilted, tipped back, other light, a hand on the forehead...), as JPEG bytes by kind."""
    smile_path = london_dir / "smiling" / f"{person}_08.jpg"
    smile_rgb = np.asarray(Image.open(smile_path).convert("RGB"))
    found = analyser.analyse(smile_path.read_bytes())
    assert found.mesh is not None
    mesh = found.mesh * found.scale  # photo pixels
    return {kind: jpeg(change(smile_rgb, mesh)) for kind, change in CAMERA.items()}
