"""The grader card (`palsy-train evaluate-grader --card`), from the evaluation report alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model.measures.asymmetry import MM_PER_IPD
from training.common import pct, reliability_table
from training.grader.weighing import adds

ROWS = (
    ("healthy_real", "healthy London photos"),
    ("healthy_real_neutral", "  neutral"),
    ("healthy_real_smiling", "  smiling"),
    ("healthy_synthetic", "healthy, phone-like copies"),
)


def headline_table(report: dict[str, Any]) -> str:
    """Markdown tables: healthy photos, then synthetic palsy, with and without the CNN."""
    lines = [
        "| healthy photos (held-out people) | variant | n | no signs | unclear | finding | "
        "emergencies |",
        "|---|---|---|---|---|---|---|",
    ]
    for variant in ("without_cnn", "with_cnn"):
        for key, name in ROWS:
            h = report[variant][key]
            lines.append(
                f"| {name} | {variant.replace('_', ' ')} | {h['photos']} | {pct(h['no_signs'])} "
                f"| {pct(h['unclear'])} | {pct(h['finding'])} | {h['emergencies']} |"
            )
    lines += [
        "",
        "| synthetic palsy (held-out people) | variant | n | flagged | unclear | told no signs "
        "| region right | side right | severity exact | within one step |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for variant in ("without_cnn", "with_cnn"):
        for key, fig in report[variant]["palsy_synthetic"].items():
            if key.endswith("_any") or key == "all" or variant == "without_cnn":
                lines.append(
                    f"| {key} | {variant.replace('_', ' ')} | {fig['photos']} "
                    f"| {pct(fig['flagged'])} | {pct(fig['unclear'])} "
                    f"| {pct(fig['told_no_signs'])} | {pct(fig['region_right'])} "
                    f"| {pct(fig['side_right'])} | {pct(fig['severity_exact'])} "
                    f"| {pct(fig['severity_within_one'])} |"
                )
    return "\n".join(lines)


def external_results(london: Path) -> str | None:
    """The "Results" section of the project's evaluation on real photos it never sees
    (`shared/docs/external-evaluation.md`, beside the face data), to quote as it is."""
    path = london.parents[2] / "docs" / "external-evaluation.md"
    if not path.is_file():
        return None
    text = path.read_text()
    start = text.find("## Results")
    if start < 0:
        return None
    heading, rest = text[start + len("## ") :].split("\n", 1)
    return f"*{heading}*\n\n{rest.strip()}"


def calibration_text(cal: dict[str, Any]) -> str:
    """The card's section on the shown probabilities (`training.grader.evaluate.grader_report`)."""
    top, before, answer = cal["top_class"], cal["top_class_before"], cal["answer"]
    bands = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in cal["bands"].items())
    disagreed = cal["raw_top_disagreed_with_verdict"]
    return f"""## How sure: the probabilities people are shown
The grader's own class scores are fitted with healthy and palsy photos weighing the same, and
its verdict is taken on P(palsy) against the two thresholds, not on the top class: on these
held-out people the raw top class disagreed with the verdict for {disagreed} of {cal["photos"]}
photos. The shown probabilities are calibrated (`model/decision/confidence.py`;
fitted on the out-of-fold grades of an inner person-grouped cross-validation, so every figure
below is on people that neither the grader nor its calibration saw): a Platt map of P(normal)
shifted to the share of palsy at which the even bet falls midway between the thresholds
({cal["prior_palsy"]:.1%} on average over these folds, about 1 in {1 / cal["prior_palsy"]:.0f}
photos; the shipped value is `calibration.prior_palsy` in `grader.json`), Platt maps of
the verdict class's share of the palsy probability, and the verdict on top. The verdict's
class(es) came out on top in {cal["verdict_on_top"]} of {cal["photos"]}; the last step had to
lift them in {cal["reordered"]} (findings and "unclear" whose class is not the most probable
palsy class, because the region is chosen first).

Expected calibration error (10 bins), held-out photos weighted so that palsy makes up
{cal["prior_palsy"]:.1%}: top-class probability **{top["ece"]:.3f}** (the raw grader's top
class, same weighting: {before["ece"]:.3f}); the answer's confidence (P that "signs" / "no signs"
is right, the number people are told) **{answer["ece"]:.3f}**. A calibration holds for one mix
of photos: at even odds the top class's ECE is {top["ece_even_odds"]:.3f} (raw
{before["ece_even_odds"]:.3f}), on this data's own mix (mostly warps)
{top["ece_data_mix"]:.3f} (raw {before["ece_data_mix"]:.3f}). Bands told ({cal["photos"]}
held-out photos): {bands}.

Reliability of the top class's probability (held-out, weighted as above):

{reliability_table(top["reliability"])}

Reliability of the answer's confidence:

{reliability_table(answer["reliability"]).replace("top-class probability", "confidence")}
"""


def _cnn_text(report: dict[str, Any], fair_text: str) -> str:
    """What the "with cnn" rows mean, and whether the CNN earns a weight."""
    oof = report["data"].get("cnn_out_of_fold")
    if not oof:
        return (
            'Rows "with cnn" are optimistic: the CNN was trained on the synthetic images of most '
            f"of these people. {fair_text}\nThe shipped grader gives the CNN no weight "
            "(`palsy-train fit-grader` without `--cnn`): its gain is on synthetic warps like its "
            "own training data, and on real photos held back from the project it was near "
            "chance while the mouth-corner measure was not."
        )
    _, sentence = adds({
        "grader_without_cnn": report["without_cnn"], "grader_with_cnn": report["with_cnn"],
        **report["weighing"],
    })  # fmt: skip
    return (
        'Rows "with cnn" use the retrained CNN\'s out-of-fold probabilities (`palsy-train '
        f"cv-cnn`, `{oof}`): every photo's probabilities come from a CNN that never saw its "
        "person, and each fold's grader learned the CNN's weight from other people's "
        f"out-of-fold probabilities. {sentence} The model card has the CNN's own figures."
    )


def card_text(report: dict[str, Any], external: str | None = None) -> str:
    """The grader's card, from the evaluation report and the external evaluation's text."""
    d = report["data"]
    rec = report["without_cnn"].get("recovery", {})
    recovery = "; ".join(
        f"{m}: {r['measured_over_applied_median']:.2f} (IQR {r['measured_over_applied_iqr'][0]:.2f}"
        f"–{r['measured_over_applied_iqr'][1]:.2f}) of a median {r['median_applied_mm']} mm "
        f"{r['applied']}"
        for m, r in rec.items()
    )
    scale = d["healthy_scale"]
    est = report["estimated_droop"]
    droop = (
        f"median {est['estimate_over_applied_median']:.2f} of the applied drop (IQR "
        f"{est['estimate_over_applied_iqr'][0]:.2f}–{est['estimate_over_applied_iqr'][1]:.2f}), "
        f"held-out R² {est['held_out_r2']}, {est['photos']} photos"
    )
    bands = "\n".join(
        f"| {label} | {b['measure']} | {b['applied_ipd'][0]}–{b['applied_ipd'][1]} IPD "
        f"({b['applied_mm'][0]}–{b['applied_mm'][1]} mm) | {b['measured_median_ipd']} IPD "
        f"({b['measured_median_mm']} mm) |"
        for label, b in report["severity_bands"].items()
    )
    fair = report.get("cnn_held_out_people")
    fair_text = ""
    if fair:
        a, b = fair["without_cnn"], fair["with_cnn"]
        fair_text = (
            f"\nOn the {fair['people']} people the CNN never trained on (the only fair test of "
            f"the CNN's weight): healthy London photos told no signs "
            f"{pct(a['healthy_real']['no_signs'])} without the CNN, "
            f"{pct(b['healthy_real']['no_signs'])} with it; synthetic palsy "
            f"flagged {pct(a['palsy_synthetic']['all']['flagged'])} without, "
            f"{pct(b['palsy_synthetic']['all']['flagged'])} with.\n"
        )
    cnn_text = _cnn_text(report, fair_text)
    return f"""# Grader card (generated by `palsy-train evaluate-grader`; do not edit by hand)

The screen decides from facial measures (`model/measures/asymmetry.py`) through the grader
(`model/decision/grader.py`, parameters `model/assets/grader.json`). **Not clinically
validated**: no real palsy photo was used to fit or test it.

## Data
{d["note"]}. {d["photos"]} photos of {d["people"]} people; refused by the quality gate (as
serving would): {d["rejected_by_quality_gate"]}. Features: {", ".join(d["features"])}.
How the decision's thresholds are chosen: P(palsy) = 1 - P(normal); "no signs" below the
{d["policy"]["no_signs_rate"]:.1%} quantile of the healthy fitting photos' own P(palsy), a finding
from the {d["policy"]["finding_rate"]:.1%} quantile, "unclear" in the narrow band between (so
about {1 - d["policy"]["no_signs_rate"]:.1%} of healthy photos, by construction, and the
palsies the measures cannot tell from healthy variation). A finding is graded severe (an
emergency) only when a position measure is beyond every healthy fitting photo's largest. CNN
in the "with cnn" rows: {d["classifier"]}.

## Person-grouped cross-validation ({d["folds"]} folds)
A person's photos and every warp made from them sit in one fold; each fold's grader was fitted on
the other people only.

{headline_table(report)}

{cnn_text}

{calibration_text(report["calibration"])}
## How much of a realised droop the measures recover
The synthetic warps move the content around each moved point by its whole displacement
(`tests/training/synth/test_warp.py`), so the applied size is the size in the image. Measured /
applied, per feature (the face mesh pulls a palsied face toward symmetry):
{recovery}.
Mouth-corner droop from the mesh's mouth measures and the paired expression scores together
(a linear estimate fitted on other people's warps, held-out people): {droop}.

| class | measure | applied (realised) | measured (median) |
|---|---|---|---|
{bands}

## What the measures cannot tell apart
Healthy faces are not symmetric: on the London photos the 95th percentile of the mouth-corner
height difference is {scale["mouth"]:.3f} IPD ({scale["mouth"] * MM_PER_IPD:.1f} mm) and of the brow
height difference {scale["brow"]:.3f} IPD ({scale["brow"] * MM_PER_IPD:.1f} mm). A droop the mesh
reads at about that size is unclear or "no signs" by design (the thresholds keep healthy people
out of findings): that is most mild mouth droops, and most eye-region palsy at rest, whose brow
drop the mesh reads at about half its size and whose sagging lower lid it does not follow at
all (recovery above). The FAST face test's brow step is what shows an eye-region weakness.

## On real photos the project never sees
Quoted from the project's external evaluation (`shared/docs/external-evaluation.md`); it measures
the grader shipped when it was run, named in its title:

{external or "(not available where this card was written)"}

## What is not validated
Real palsy (Bell's or stroke). Real brow raises. Faces of children, of people with beards,
glasses or make-up beyond the London set. Phone photos in poor light beyond the synthetic
degradations.
"""
