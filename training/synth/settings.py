"""The numbers that shape the synthetic set (one `Settings` record), its classes and attribution."""

from __future__ import annotations

from dataclasses import dataclass, field

from model.labels import NORMAL, PAPER_CLASSES

CLASSES: tuple[str, ...] = (*PAPER_CLASSES, NORMAL)

Ranges = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Settings:
    """Every number that shapes the synthetic set; the model card prints these same numbers.

    Displacements are in IPD units. `severity`: eye (lower lid drop, brow drop),
    mouth (corner drop, flattening fraction); gaps between severities keep the labels apart.
    """

    work_size: int = 512  # generated images are work_size x work_size
    # Realised sizes: the warp moves the content within `rigid` of each moved point by its whole
    # displacement (tests/training/test_training_warp.py), so these are what a person sees.
    severity: dict[str, dict[str, Ranges]] = field(
        default_factory=lambda: {
            "eye": {
                "mild": ((0.010, 0.020), (0.040, 0.055)),
                "moderate": ((0.025, 0.035), (0.060, 0.075)),
                "severe": ((0.040, 0.050), (0.080, 0.100)),
            },
            "mouth": {
                "mild": ((0.055, 0.080), (0.30, 0.45)),
                "moderate": ((0.090, 0.130), (0.50, 0.65)),
                "severe": ((0.140, 0.200), (0.70, 0.90)),
            },
        }
    )
    # The warp's discs (IPD), per point group: (rigid, falloff). Each point's neighbourhood
    # within `rigid` moves with it, and its pull fades over `falloff` beyond. "pin": points that
    # stay (nose, outline, chin); small, so they hold their own spot without holding the skin
    # around a moved one. "pupil": the eye itself, which stays while a lid sags over it.
    discs: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "mouth_corner": (0.07, 0.12), "lip": (0.04, 0.06), "upper_lid": (0.03, 0.04),
            "lower_lid": (0.03, 0.05), "outer_corner": (0.04, 0.05), "under_eye": (0.05, 0.06),
            "brow": (0.06, 0.08), "pin": (0.02, 0.03), "pupil": (0.06, 0.02),
        }
    )  # fmt: skip
    jitter_ipd: float = 0.006  # natural asymmetry: per-group random shift on both sides
    medial_shift: float = 0.25  # the drooping corner moves this fraction of its drop medially
    corner_block: float = 0.75  # lips beyond this share of the half-mouth droop with the corner
    outer_corner_follows: float = 0.6  # of the lower lid's drop
    under_eye_follows: float = 0.8  # of the lower lid's drop
    # Appearance: framing, occluders, degradation (chances are per image).
    scale: tuple[float, float] = (0.8, 1.15)
    shift: float = 0.06  # of the image size, each axis
    rotation_deg: float = 8.0
    glasses: float = 0.2
    hand: float = 0.12
    blur: float = 0.5
    noise: float = 0.5
    jpeg_quality: tuple[int, int] = (40, 95)


SETTINGS = Settings()
# The names the rest of the project (and its tests) use.
WORK_SIZE = SETTINGS.work_size
SEVERITY = SETTINGS.severity
JITTER_IPD = SETTINGS.jitter_ipd
MEDIAL_SHIFT = SETTINGS.medial_shift

ATTRIBUTION = (
    "Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0, "
    "https://doi.org/10.6084/m9.figshare.5047666.v5. Modified: cropped, resized, warped "
    "(synthetic palsy), recoloured, composited."
)
