"""Class names: `<severity>_<region>` (the paper's six) and optionally `normal`."""

from __future__ import annotations

from typing import Literal, NamedTuple

Region = Literal["eye", "mouth"]
Severity = Literal["mild", "moderate", "severe"]

PAPER_CLASSES: tuple[str, ...] = (
    "mild_eye",
    "mild_mouth",
    "moderate_eye",
    "moderate_mouth",
    "severe_eye",
    "severe_mouth",
)
NORMAL = "normal"
SEVERITIES: tuple[Severity, ...] = ("mild", "moderate", "severe")
REGIONS: tuple[Region, ...] = ("eye", "mouth")


class ParsedLabel(NamedTuple):
    region: Region | None
    severity: Severity | None


def parse_label(name: str) -> ParsedLabel:
    """Split a class name into region and severity; `normal` has neither."""
    if name == NORMAL:
        return ParsedLabel(None, None)
    severity, sep, region = name.partition("_")
    if not sep or severity not in SEVERITIES or region not in REGIONS:
        raise ValueError(f"unknown class name {name!r}: expected <severity>_<region> or 'normal'")
    return ParsedLabel(region, severity)
