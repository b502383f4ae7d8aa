"""Synthetic facial-palsy set built from the London faces (healthy, consenting adults, CC BY 4.0).

For each person and each photo (neutral, smiling) we write `normal` plus the paper's six classes.
Palsy is simulated on ONE side of the face (image-left or image-right, at random) by moving
landmarks and warping the image with `training.synth.warp`:

- eye classes: the lower lid sags (a wider palpebral fissure, as in lower-lid ectropion; the eye
  itself stays put under it), the skin below the eye and the outer corner follow, and the brow
  drops;
- mouth classes: the mouth corner drops and moves slightly towards the midline; the outer lips
  droop with it as one block, the drop fading to none at the middle, and the lips on that side
  are flattened towards their centre line.

The warp (`training.synth.warp`) moves the neighbourhood of each moved point with it, so a label's
size is what the image shows (`tests/training/test_training_warp.py` tracks it).

All displacements are in units of the inter-pupil distance (IPD); every number is in `Settings`
(`SETTINGS`), which the model card (training/model_card.py) prints. Every image, `normal`
included, gets a small independent jitter on both sides (natural asymmetry) and goes through
the same warp, so the warp's resampling itself carries no label. Control points come from the
hand-placed .tem templates for neutral photos and from model/'s landmark model for smiling photos
(they have no template).

Then each image gets a random background (the studio grey is keyed out), framing (scale, shift,
small rotation), lighting, colour, optional occluders (glasses, a hand at the chin), blur, noise and
JPEG quality, so the classifier cannot learn studio artefacts. No TensorFlow here.
"""

from training.synth.appearance import render
from training.synth.build import build, contact_sheet, default_workers, generate_photo, source_jobs
from training.synth.palsy import Palsy, displacement, sample_palsy
from training.synth.points import (
    MESH,
    MESH_ANCHORS,
    MESH_LIP_MID,
    TEM,
    FacePoints,
    mesh_points,
    tem_points,
)
from training.synth.settings import (
    ATTRIBUTION,
    CLASSES,
    JITTER_IPD,
    MEDIAL_SHIFT,
    SETTINGS,
    SEVERITY,
    WORK_SIZE,
    Settings,
)
from training.synth.source import Source, foreground_mask, load_source

__all__ = [
    "ATTRIBUTION", "CLASSES", "JITTER_IPD", "MEDIAL_SHIFT", "MESH", "MESH_ANCHORS", "MESH_LIP_MID",
    "SETTINGS", "SEVERITY", "TEM", "WORK_SIZE", "FacePoints", "Palsy", "Settings", "Source",
    "build", "contact_sheet", "default_workers", "displacement", "foreground_mask",
    "generate_photo", "load_source", "mesh_points", "render", "sample_palsy", "source_jobs",
    "tem_points",
]  # fmt: skip
