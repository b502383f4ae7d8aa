"""palsy-check: screen photos from the command line, without Telegram.

Exit status: 0 when every image was screened (rejected photos included), 1 when a model cannot be
loaded, 2 for usage errors (bad options, an image path that cannot be read). With `--json` every
path given gets exactly one line, an unreadable one `"status": "error"` with its reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from model.cnn.classifier import ContractError, ModelMissingError
from model.decision.exam import ExamError, ExamResult
from model.decision.grader import Finding, GraderError
from model.decision.triage import Tier
from model.measures.asymmetry import MM_PER_IPD
from model.reasons import Reason
from model.result import ScreeningResult

if TYPE_CHECKING:
    from model.pipeline import Screener

DISCLAIMER = "Screening only, not a diagnosis; any sudden facial droop is an emergency."
NOT_VALIDATED = (
    "NOTE: this screen has not been clinically validated on real patients. "
    "Do not rely on it for medical decisions."
)

# Plain words for the readable report (the bot has its own catalogs, in two languages).
WHY_NOT: dict[Reason, str] = {
    Reason.EMPTY: "the file is empty",
    Reason.NOT_IMAGE: "not an image",
    Reason.CORRUPT: "the picture is damaged",
    Reason.TOO_MANY_BYTES: "the file is too big",
    Reason.TOO_MANY_PIXELS: "the picture is too large",
    Reason.TOO_SMALL: "the picture is too small",
    Reason.NO_FACE: "no face found",
    Reason.MULTIPLE_FACES: "more than one face",
    Reason.FACE_TOO_SMALL: "the face is too small in the picture",
    Reason.TOO_DARK: "too dark",
    Reason.OVEREXPOSED: "too bright",
    Reason.BLURRY: "blurry",
    Reason.NOT_FRONTAL: "the head is turned or tilted",
    # The face test's own (a single photo never gives these).
    Reason.NO_SMILE: "no smile made: smile as wide as you can and take it again",
    Reason.NO_BROW_RAISE: "brows not raised: lift both eyebrows high and take it again",
    Reason.NOT_SAME_PERSON: "the photos do not seem to show the same person",
}
RETAKE_TIP = "take a new photo: face the camera, in good light, only your face in the picture"
ADVICE: dict[Tier, str] = {
    Tier.EMERGENCY: "call an emergency number now (112; ambulance 108 in India)",
    Tier.URGENT: "see a doctor today; if it started suddenly, call an emergency number now",
    Tier.SOON: "see a doctor in the next few days; if it started suddenly, call an emergency "
    "number now",
    Tier.NO_SIGNS: "a photo cannot rule out a stroke: if there is sudden weakness, trouble "
    "speaking or seeing, call an emergency number now",
    Tier.RETAKE: "if the face drooped suddenly, call an emergency number now",
}
SEVERITY_WORDS = {"mild": "mild", "moderate": "moderate", "severe": "strong"}
REGION_WORDS = {"mouth": "around the mouth", "eye": "around the eye and brow"}
OBSERVED = {
    "mouth": "the {side} mouth corner sits about {mm:.0f} mm lower than the {other}",
    "brow": "the {side} eyebrow sits about {mm:.0f} mm lower than the {other}",
}


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
    return parser


def observations(finding: Finding) -> list[str]:
    """Plain-words measures outside the healthy range, with sizes in mm."""
    out = []
    for o in finding.observations:
        other = "right" if o.side == "left" else "left"
        out.append(OBSERVED[o.measure].format(side=o.side, other=other, mm=max(1, o.size_mm)))
    return out


def outcome(result: ScreeningResult) -> str:
    """One line: what the photo showed, in plain words."""
    finding = result.finding
    if result.status == "ok" and finding is not None and finding.decision == "finding":
        severity = SEVERITY_WORDS.get(finding.severity or "", finding.severity)
        region = REGION_WORDS.get(finding.region or "", finding.region)
        return f"possible {severity} weakness {region}, on the person's own {finding.side} side"
    if result.status == "ok":
        return "no signs of facial weakness in this photo"
    if result.reason is Reason.LOW_CONFIDENCE:
        return "checked, but no clear answer: the face is a little uneven, within or near the " \
            "range of healthy faces"  # fmt: skip
    reason = result.reason
    why = _why_not(reason)
    tip = "" if reason in (Reason.NOT_IMAGE, Reason.EMPTY) else f"; {RETAKE_TIP}"
    return f"not checked: {why}{tip}"


def _calibrated_for(result: ScreeningResult) -> str:
    """What the probabilities assume: the share of palsy they are calibrated for."""
    if result.confidence is None:
        return "no probabilities"
    share = 1 / result.confidence.prior
    return f"probabilities as among photos where 1 in {share:.0f} shows a palsy"


def _why_not(reason: Reason | None) -> str:
    return WHY_NOT.get(reason, "not checked") if reason else "not checked"


def report(path: Path, result: ScreeningResult) -> str:
    """The readable report for one image."""
    lines = [f"{path}", f"  result:    {outcome(result)}", f"  do:        {ADVICE[result.tier]}"]
    if result.confidence is not None:
        lines.append(f"  how sure:  {result.confidence.words()}")
    if result.finding is not None:
        for sentence in observations(result.finding):
            lines.append(f"  seen:      {sentence}")
        lines.append(f"  detail:    grader {result.grader_version}; {_calibrated_for(result)}; "
                     f"sizes at an assumed {MM_PER_IPD:.0f} mm between the pupils")  # fmt: skip
    times = ", ".join(f"{k} {v:.0f}" for k, v in result.timings_ms.items())
    lines.append(f"  time (ms): {times}")
    return "\n".join(lines)


PATTERNS = {
    "none": "both sides of the smile move about the same",
    "unclear": "one side may move a little less; no clear answer",
    "lower_face": "one side of the mouth moves much less (forehead not tested)",
    "stroke_type": "one side of the mouth moves much less while both brows rise: the pattern "
    "of a stroke",
    "bells_type": "one side of the mouth and the brow on the same side move less: the pattern "
    "of Bell's palsy (some strokes look like this too)",
}


def exam_report(paths: Sequence[Path], exam: ExamResult) -> str:
    """The readable report for one FAST exam."""
    lines = [" + ".join(str(p) for p in paths)]
    if exam.status != "ok":
        lines.append(f"  step:      {exam.failed_step}: {_why_not(exam.reason)}")
    else:
        lines.append(f"  result:    {PATTERNS.get(exam.pattern or '', exam.pattern)}")
        for name, side in (("left", exam.left), ("right", exam.right)):
            if side is not None:
                brow = "" if side.brow is None else f", brow rose {side.brow * MM_PER_IPD:.0f} mm"
                lines.append(
                    f"  {name + ':':10} mouth corner rose {side.lift * MM_PER_IPD:.0f} mm "
                    f"(moved {side.smile * MM_PER_IPD:.0f} mm){brow}"
                )
        if exam.confidence is not None:
            lines.append(f"  how sure:  {exam.confidence.words()} in the smile")
    lines.append(f"  do:        {ADVICE[exam.tier]}")
    return "\n".join(lines)


def as_json(path: Path, result: ScreeningResult) -> str:
    out = {"path": str(path), **result.to_dict(), "disclaimer": DISCLAIMER}
    if result.model is not None and not result.model.clinically_validated:
        out["notice"] = NOT_VALIDATED
    return json.dumps(out, ensure_ascii=False)


def error_json(path: Path, reason: str) -> str:
    return json.dumps({"path": str(path), "status": "error", "reason": reason})


def read_limited(path: Path, limit: int) -> bytes:
    """At most `limit` + 1 bytes of `path`: one past the limit is enough to refuse it as too
    big (TOO_MANY_BYTES), and /dev/zero, a pipe or a huge file never fills the memory."""
    with path.open("rb") as file:
        return file.read(limit + 1)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.threads < 1:
        _parser().error("--threads must be at least 1")
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
            print(NOT_VALIDATED)
        print()
    if args.exam:
        return _exam(screener, args)
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
        print(as_json(path, result) if args.json else report(path, result) + "\n", flush=True)
    if not args.json:
        print(DISCLAIMER)
    return status


def _exam(screener: Screener, args: argparse.Namespace) -> int:
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
    if args.json:
        out = {"paths": [str(p) for p in args.images], **exam.to_dict(), "disclaimer": DISCLAIMER}
        if not screener.classifier.info.clinically_validated:
            out["notice"] = NOT_VALIDATED
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(exam_report(args.images, exam) + "\n")
        print(DISCLAIMER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
