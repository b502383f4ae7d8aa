"""palsy-check: screen photos from the command line, without Telegram.

Exit status: 0 when every image was screened (rejected photos included), 1 when a model cannot be
loaded, 2 for usage errors (bad options, an image path that cannot be read).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from model.classifier import ContractError, ModelMissingError
from model.result import ScreeningResult

DISCLAIMER = "Screening only, not a diagnosis; any sudden facial droop is an emergency."
NOT_VALIDATED = (
    "NOTE: this model has not been clinically validated on real patients. "
    "Do not rely on it for medical decisions."
)

# The signed measures; the JSON also has the derived `<feature>_asymmetry` / `_lower_side` keys.
READABLE_MEASURES = ("mouth", "brow", "eye", "eye_ratio", "weaker_side")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="palsy-check",
        description="Screen face photos for signs of facial palsy. " + DISCLAIMER,
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", type=Path)
    parser.add_argument("--json", action="store_true", help="one JSON object per image per line")
    parser.add_argument(
        "--model", type=Path, help="classifier ONNX file (default: the bundled one)"
    )
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads per model")
    parser.add_argument(
        "--sudden", action="store_true", help="the droop started suddenly (raises the tier)"
    )
    return parser


def _fmt(name: str, value: float | str) -> str:
    if not isinstance(value, float):
        return str(value)
    return f"{value:.3f}" if name == "eye_ratio" else f"{value:+.3f}"  # signed: left - right


def report(path: Path, result: ScreeningResult) -> str:
    """The readable report for one image."""
    lines = [f"{path}"]
    if result.status == "ok":
        what = (
            "no signs of facial palsy"
            if result.region is None
            else (f"{result.severity} {result.region} weakness")
        )
        lines.append(f"  finding:   {what} ({result.label}, p={result.top_probability:.2f})")
    else:
        reason = result.reason.value if result.reason else "unknown"
        lines.append(f"  rejected:  {reason} (please retake the photo)")
    lines.append(f"  urgency:   {result.tier.value}")
    if result.probabilities:
        probs = ", ".join(f"{k} {v:.2f}" for k, v in result.probabilities.items())
        lines.append(f"  classes:   {probs}")
    if result.asymmetry:
        shown = [k for k in READABLE_MEASURES if k in result.asymmetry]
        asym = ", ".join(f"{k} {_fmt(k, result.asymmetry[k])}" for k in shown)
        lines.append(f"  asymmetry: {asym} (pupil distances; subject's sides)")
    if result.face:
        f = result.face
        lines.append(f"  face:      x={f.x:.0f} y={f.y:.0f} w={f.width:.0f} h={f.height:.0f}")
    times = ", ".join(f"{k} {v:.1f}" for k, v in result.timings_ms.items())
    lines.append(f"  ms:        {times}")
    return "\n".join(lines)


def as_json(path: Path, result: ScreeningResult) -> str:
    out = {"path": str(path), **result.to_dict(), "disclaimer": DISCLAIMER}
    if result.model is not None and not result.model.clinically_validated:
        out["notice"] = NOT_VALIDATED
    return json.dumps(out, ensure_ascii=False)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.threads < 1:
        _parser().error("--threads must be at least 1")
    try:
        from model.pipeline import Screener  # loads onnxruntime: after argument checks

        screener = Screener(classifier_path=args.model, threads=args.threads)
    except (ModelMissingError, ContractError, FileNotFoundError) as exc:
        print(f"palsy-check: {exc}", file=sys.stderr)
        return 1
    info = screener.classifier.info
    if not args.json:
        print(f"model: {info.name} {info.version} sha256 {info.sha256[:16]}")
        if not info.clinically_validated:
            print(NOT_VALIDATED)
        print()
    status = 0
    for path in args.images:
        try:
            data = path.read_bytes()
        except OSError as exc:
            print(f"palsy-check: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
            status = 2
            continue
        sudden = True if args.sudden else None
        result = screener.screen(data, sudden_onset=sudden)
        print(as_json(path, result) if args.json else report(path, result) + "\n", flush=True)
    if not args.json:
        print(DISCLAIMER)
    return status


if __name__ == "__main__":
    sys.exit(main())
