"""palsy-check: screen photos from the command line, without Telegram.

Exit status: 0 when every image was screened (rejected photos included), 1 when a model cannot be
loaded, 2 for usage errors (bad options, an image path that cannot be read). With `--json` every
path given gets exactly one line, an unreadable one `"status": "error"` with its reason.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from model.cnn.classifier import ContractError, ModelMissingError
from model.decision.exam import ExamError, ExamResult
from model.decision.grader import Finding, GraderError
from model.face.decode import DecodeLimits
from model.measures.asymmetry import MM_PER_IPD
from model.result import ModelInfo, ScreeningResult
from model.words import LANGUAGES, BadNumber, Numbers, Texts, plain, render

if TYPE_CHECKING:
    from model.pipeline import Screener

# What the person is told comes from the bot's own catalogs (model.words), in the bot's
# wording (sides by their place in the photo, no millimetres); the measures behind it, with
# sizes and the person's own sides, follow under "details".
SUBJECT_SIDE = {"left": "the person's left", "right": "the person's right"}
MEASURE_WORDS = {"mouth": "mouth corner", "brow": "eyebrow", "eye": "eye opening"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="palsy-check",
        description="Screen face photos for signs of facial palsy, in the words the bot uses. "
        "Screening only, not a diagnosis: any sudden facial droop is an emergency.",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", type=Path)
    parser.add_argument("--json", action="store_true", help="one JSON object per image per line")
    parser.add_argument(
        "--model", type=Path, help="classifier ONNX file (default: the bundled one)"
    )
    parser.add_argument(
        "--grader", type=Path, help="grader parameters JSON (default: the bundled one)"
    )
    parser.add_argument(
        "--exam",
        action="store_true",
        help="the FAST face test: IMAGE... is REST SMILE [BROWS] of one person",
    )
    parser.add_argument(
        "--cnn",
        action="store_true",
        help="also run the CNN when the grader gives it no weight (its softmax in --json)",
    )
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads per model")
    parser.add_argument(
        "--sudden", action="store_true", help="the droop started suddenly (raises the tier)"
    )
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        default=None,
        help="the catalog to speak from (default: PALSY_DEFAULT_LANGUAGE, else en); the "
        "emergency numbers are PALSY_EMERGENCY_NUMBER and PALSY_AMBULANCE_NUMBER, as the bot's",
    )
    return parser


def texts(language: str, numbers: Numbers, limits: DecodeLimits | None = None) -> Texts:
    """The bot's catalog with the values its advice fills in."""
    max_mb = (limits or DecodeLimits()).max_bytes // (1024 * 1024)
    return Texts(language, emergency=numbers.emergency, ambulance=numbers.ambulance, max_mb=max_mb)


def disclaimer(t: Texts) -> str:
    return plain(t("disclaimer"))


def notice(t: Texts) -> str:
    """Said with every result of a model not validated on real patients."""
    return plain(t("not_validated"))


def _said(text: str) -> list[str]:
    """A reply of the bot's as indented terminal lines (its blank lines kept)."""
    return [f"  {line}" if line else "" for line in plain(text).splitlines()]


def measured(finding: Finding) -> list[str]:
    """The measures outside the healthy range, with sizes in mm and the person's own sides."""
    out = []
    for o in finding.observations:
        other = "right" if o.side == "left" else "left"
        what = MEASURE_WORDS.get(o.measure, o.measure)
        out.append(
            f"{what}: {SUBJECT_SIDE[o.side]} about {max(1, o.size_mm):.0f} mm lower than the "
            f"{other}"
        )
    return out


def details(result: ScreeningResult) -> list[str]:
    """What decided, for the reader who wants the measures (never in the bot's reply)."""
    finding = result.finding
    if finding is None:
        return []
    if finding.decision == "finding":
        side = SUBJECT_SIDE.get(finding.side or "", "no side")
        said = f"{finding.severity} finding, {finding.region} region, {side}"
    else:
        said = {"no_signs": "no signs", "unclear": "between no signs and a finding"}.get(
            finding.decision, finding.decision
        )
    lines = [f"{said}; grader {result.grader_version}; {_calibrated_for(result)}"]
    lines += measured(finding)
    if finding.observations:
        lines.append(f"sizes at an assumed {MM_PER_IPD:.0f} mm between the pupils")
    return lines


def _calibrated_for(result: ScreeningResult) -> str:
    """What the probabilities assume: the share of palsy they are calibrated for."""
    if result.confidence is None:
        return "no probabilities"
    share = 1 / result.confidence.prior
    return f"probabilities as among photos where 1 in {share:.0f} shows a palsy"


def report(path: Path, result: ScreeningResult, t: Texts) -> str:
    """The readable report for one image: the bot's reply, how sure, then the details."""
    lines = [f"{path}", *_said(render.result_text(t, result)), ""]
    if result.confidence is not None:
        lines.append(f"  how sure:  {result.confidence.words()}")
    lines += [f"  details:   {line}" for line in details(result)]
    times = ", ".join(f"{k} {v:.0f}" for k, v in result.timings_ms.items())
    lines.append(f"  time (ms): {times}")
    return "\n".join(lines)


def exam_report(paths: Sequence[Path], exam: ExamResult, t: Texts, model: ModelInfo) -> str:
    """The readable report for one FAST exam: the bot's reply, how sure, then each side's
    movement."""
    lines = [" + ".join(str(p) for p in paths)]
    if exam.status != "ok":
        lines += _said(render.rejection(t, exam.reason))
        lines += ["", f"  details:   the {exam.failed_step} photo could not be used"]
        return "\n".join(lines)
    lines += [*_said(render.exam_text(t, exam, model)), ""]
    if exam.confidence is not None:
        lines.append(f"  how sure:  {exam.confidence.words()} in the smile")
    for name, side in (("left", exam.left), ("right", exam.right)):
        if side is not None:
            brow = "" if side.brow is None else f", brow rose {side.brow * MM_PER_IPD:.0f} mm"
            lines.append(
                f"  details:   {SUBJECT_SIDE[name]}: mouth corner rose "
                f"{side.lift * MM_PER_IPD:.0f} mm (moved {side.smile * MM_PER_IPD:.0f} mm){brow}"
            )
    lines.append(f"  details:   pattern {exam.pattern}")
    return "\n".join(lines)


def as_json(path: Path, result: ScreeningResult, t: Texts) -> str:
    out = {"path": str(path), **result.to_dict(), "disclaimer": disclaimer(t)}
    if result.model is not None and not result.model.clinically_validated:
        out["notice"] = notice(t)
    return json.dumps(out, ensure_ascii=False)


def error_json(path: Path, reason: str) -> str:
    return json.dumps({"path": str(path), "status": "error", "reason": reason})


def read_limited(path: Path, limit: int) -> bytes:
    """At most `limit` + 1 bytes of `path`: one past the limit is enough to refuse it as too
    big (TOO_MANY_BYTES), and /dev/zero, a pipe or a huge file never fills the memory."""
    with path.open("rb") as file:
        return file.read(limit + 1)


def _texts(args: argparse.Namespace) -> Texts:
    """The catalog and numbers the bot would use in this environment (usage error if bad)."""
    language = args.language or os.environ.get("PALSY_DEFAULT_LANGUAGE", "").strip() or "en"
    if language not in LANGUAGES:
        _parser().error(f"PALSY_DEFAULT_LANGUAGE: must be one of {', '.join(LANGUAGES)}")
    try:
        numbers = Numbers.from_env(os.environ)
    except BadNumber as exc:
        _parser().error(f"{exc.setting}: {exc}")
    return texts(language, numbers)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.threads < 1:
        _parser().error("--threads must be at least 1")
    t = _texts(args)
    try:
        from model.pipeline import Screener  # loads onnxruntime: after argument checks

        screener = Screener(
            args.model, threads=args.threads, grader_path=args.grader, shadow_cnn=args.cnn
        )
    except (ModelMissingError, ContractError, GraderError, ExamError, FileNotFoundError) as exc:
        print(f"palsy-check: {exc}", file=sys.stderr)
        return 1
    info = screener.classifier.info
    if not args.json:
        cnn = "" if screener.runs_cnn else " (no weight: not run)"
        print(
            f"grader {screener.grader.params.version}; classifier {info.name} {info.version}{cnn}"
        )
        if not info.clinically_validated:
            print(notice(t))
        print()
    if args.exam:
        return _exam(screener, args, t)
    status = 0
    for path in args.images:
        try:
            data = read_limited(path, screener.limits.max_bytes)
        except OSError as exc:
            why = f"cannot read {path}: {exc.strerror or exc}"
            print(f"palsy-check: {why}", file=sys.stderr)
            if args.json:
                print(error_json(path, why), flush=True)
            status = 2
            continue
        sudden = True if args.sudden else None
        result = screener.screen(data, sudden_onset=sudden)
        print(as_json(path, result, t) if args.json else report(path, result, t) + "\n", flush=True)
    if not args.json:
        print(disclaimer(t))
    return status


def _exam(screener: Screener, args: argparse.Namespace, t: Texts) -> int:
    if len(args.images) not in (2, 3):
        print("palsy-check: --exam takes REST SMILE [BROWS]", file=sys.stderr)
        return 2
    try:
        photos = [read_limited(p, screener.limits.max_bytes) for p in args.images]
    except OSError as exc:
        print(f"palsy-check: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    brows = photos[2] if len(photos) == 3 else None
    exam = screener.exam(photos[0], photos[1], brows, sudden_onset=True if args.sudden else None)
    info = screener.classifier.info
    if args.json:
        out = {
            "paths": [str(p) for p in args.images],
            **exam.to_dict(),
            "disclaimer": disclaimer(t),
        }
        if not info.clinically_validated:
            out["notice"] = notice(t)
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(exam_report(args.images, exam, t, info) + "\n")
        print(disclaimer(t))
    return 0


if __name__ == "__main__":
    sys.exit(main())
