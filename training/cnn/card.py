"""MODEL_CARD.md from a run (`training.cnn.run.Run`) and the settings in code: what was done,
not what was planned. `TEMPLATE` is the card's prose; `facts` fills every number in it, from the
run's records or from the settings objects that made them (synthesis, augmentation, export,
contract); `card_section` the cross-validation's (`palsy-train card --cv`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from model import INPUT_SIZE, Classifier
from model.measures.asymmetry import MM_PER_IPD
from training.cnn import network
from training.cnn.cv import SUMMARY
from training.cnn.export import OPSET, PARITY_TOLERANCE
from training.cnn.fit import AUGMENTATION
from training.cnn.run import CONFIDENT, REPORT, Calibration, Metrics, Run, TrainConfig
from training.grader.weighing import GROUPS, adds
from training.synth import ATTRIBUTION, SETTINGS

PAPER_LEARNING_RATE = TrainConfig.learning_rate  # Keras' Adam default, as in the paper

TEMPLATE = """# Model card: palsy classifier `{version}`

> **Not validated on real patients. Not for clinical use.** This model has never seen a photo of
> a person with facial palsy: it was trained on *synthetic* palsy. Its metadata says
> `clinical_validation = none`, and palsy-check and the bot show that notice with every result.
> Any sudden facial droop is an emergency: call for help at once (BE-FAST).

**Its role now:** the screen decides from calibrated facial measures through the grader
(`grader.json`, card: [GRADER_CARD.md](GRADER_CARD.md)). Serving runs this CNN only when the
grader weighs it (`palsy-check --cnn` runs it in shadow). {role}

## Files

{files}

Contract (`model/cnn/contract.py`): one float32 input `[N, {size}, {size}, 3]` (RGB
0–255, the crop made by `model.face.preprocess.classifier_input`, {input}), one output of logits
`[N, {n_classes}]`, classes in output order `{classes}`. ONNX opset {opset},
dynamic batch. Keras vs ONNX Runtime parity over the {parity_images} validation images:
max |Δlogit| = {parity:.3g} (the export fails above {tolerance}).
{calibration}
## Intended use

Demonstrating and testing the palsy-screen pipeline (bot, palsy-check, retraining) end to end,
and a baseline to compare retrained models against. Not for screening real people: for that a
model must be trained or validated on real, consented clinical photos and the metadata key
`clinical_validation` must describe that study.

## Data

{attribution}

The London set holds 102 healthy adults (aged 18–54; 53 male, 49 female), a neutral and a smiling
photo each, who consented to altered use of their images. `palsy-train synth` made
{images} images ({variants} per photo and class) in
{n_data_classes} classes: {counts}.{subset_note}

- **Palsy is simulated on one side** (image-left or image-right at random) by moving landmarks
  and warping the image so that each moved point's neighbourhood moves with it
  (`training/synth/warp.py`; the content within 0.05 IPD of a moved corner, lid or brow point
  moves by at least 0.9 of its displacement, `tests/training/synth/test_warp.py`), so the sizes
  below are the sizes in the image. Control points: the hand-placed `.tem` templates for neutral
  photos, model/'s face-mesh landmarks for smiling photos.
- Eye classes widen the palpebral fissure (the lower lid sags over the eye, which stays put; the
  outer corner follows the lower lid by {s.outer_corner_follows} and the skin below the eye by \
{s.under_eye_follows}) and drop the brow (the lateral end
  more). Mouth classes drop the mouth corner, move it towards the midline by {s.medial_shift} of \
the
  drop, and flatten that side of the lips towards their centre line. Ranges, in units of
  inter-pupil distance, drawn uniformly:

{severity}

- Every image (`normal` too) gets an independent random shift of up to {jitter:.3f} IPD on
  every feature of both sides (natural asymmetry) and goes through the same warp.
- Randomised: background (the studio grey keyed out and replaced by flat, gradient, smooth or
  cluttered backgrounds), scale {s.scale[0]:g}–{s.scale[1]:g}, shift ±{shift:g} %, \
rotation ±{s.rotation_deg:g}°, directional light, gamma,
  white balance, saturation, glasses ({glasses:g} %), a hand at the chin ({hand:g} %), \
blur ({blur:g} %), noise
  ({noise:g} %), JPEG quality {s.jpeg_quality[0]}–{s.jpeg_quality[1]}.
- Faces not found by the detector (the whole image is then used): {faces_not_found} of
  {images}. Unreadable files: {unreadable}.

## Training

The paper's recipe (Dua & Sharma 2025): Rescaling(1/255);{mirror_step} Conv2D {filters} \
({kernel}×{kernel}, relu,
'same'), each followed by MaxPooling2D and Dropout({dropout:g}); Flatten; Dense({dense}, relu);
Dense({n_classes}) logits; {parameters:,}
parameters. Adam (learning rate {learning_rate:g}{lr_note}),
SparseCategoricalCrossentropy(from_logits=True), batch
{batch_size}, **{epochs_run} epochs** (configured: {epochs}), seed
{seed}, augmentation {augment}. {weights_note} Median
{seconds_per_epoch} s per epoch on the shared 2-core build machine.

## Validation (leak-free)

Split by person (`--split {split}`): {train_images} training images from
{train_subjects} people, {validation_images} validation images from
{validation_subjects} other people ({group_source} groups: no person on
both sides). {near_duplicates} validation images still have a pHash match in train:
different people whose hashes collide, the hash's chance rate on aligned face crops.

| accuracy | loss | macro F1 | ECE ({ece_bins} bins) |
|---|---|---|---|
| {accuracy:.4f} | {loss:.4f} | {macro_f1:.4f} | {ece:.4f} |

{coarse}

{per_class}

Confusion matrix (rows: true class, columns: predicted):

{confusion}

### What a random split hides

With the paper's split (`validation_split={validation_split:g}`, seed {seed}, random over images) \
on the
same set, {paper.near_duplicate_in_train} of {paper.validation_images} validation images
have a near-duplicate in train (pHash within {paper.hamming_threshold_bits} bits, mirror
included; compare {near_duplicates} of {validation_images} by chance in the
person split) and {paper.subject_in_train} show a person who is also in train.
{compare}{cv}
## Limits

- Not validated on real patients; not for clinical use. Real palsy differs from these warps
  (muscle tone, skin folds, nasolabial fold, eye closure, dynamics).
- 102 people, mostly white (69), photographed in one studio; smiling and neutral expressions
  only; adults 18–54. Performance on other groups, ages and cameras is unknown.
- Severity levels are bands of a synthetic displacement, not clinical grades (House–Brackmann).
- Validation images come from the same synthetic process as training images: the figures above
  measure how well the model learned the generator, not palsy.
{notes}"""

CALIBRATION = """
## Calibration

The logits are divided by a temperature T fitted on the validation images (`palsy-train
calibrate`, which minimises their negative log-likelihood; stored as metadata `calibration`).
Ranking and accuracy do not change; the probabilities then say how much the model really knows.
A grader fitted with `palsy-train fit-grader --cnn` reads these calibrated probabilities.

{table}
"""


def _sci(x: float) -> str:
    """1e-4, not 0.0001 or 1e-04: how the card writes small settings."""
    return f"{x:.0e}".replace("e-0", "e-")


def _or_unknown(n: int | None) -> int | str:
    return "?" if n is None else n


def _table(rows: list[list[str]], head: list[str]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _coarse(val: Metrics) -> str:
    """The triage view: region right at any severity, and palsy vs normal."""
    if val.region_accuracy is None:
        return ""
    text = f"Region (eye, mouth or normal) right at any severity: {val.region_accuracy:.4f}"
    if val.sensitivity is not None and val.specificity is not None:
        text += (
            f"; palsy images given some palsy class (sensitivity): {val.sensitivity:.4f}; "
            f"normal images called normal (specificity): {val.specificity:.4f}"
        )
    return text + "."


def _per_class(val: Metrics) -> str:
    rows = [[c, f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}", str(m.support)]
            for c, m in val.per_class.items()]  # fmt: skip
    return _table(rows, ["class", "precision", "recall", "F1", "support"])


def _confusion(val: Metrics) -> str:
    rows = [
        [f"**{c}**", *map(str, r)] for c, r in zip(val.classes, val.confusion_matrix, strict=True)
    ]
    return _table(rows, ["true \\ predicted", *val.classes])


def _severity_table() -> str:
    rows = []
    for sev in ("mild", "moderate", "severe"):
        (dr, br), (cd, fl) = SETTINGS.severity["eye"][sev], SETTINGS.severity["mouth"][sev]
        ipd = [f"{lo:.3f}–{hi:.3f} ({lo * MM_PER_IPD:.1f}–{hi * MM_PER_IPD:.1f} mm)"
               for lo, hi in (dr, br, cd)]  # fmt: skip
        rows.append([sev, *ipd, f"{fl[0]:.2f}–{fl[1]:.2f}"])
    head = ["severity", "lower lid down", "brow down", "mouth corner down",
            "lip flattening (fraction)"]  # fmt: skip
    return _table(rows, head)


def _calibration(calibration: dict[str, Calibration] | None) -> str:
    """The card's calibration section, from `palsy-train calibrate`'s calibration.json."""
    if calibration is None:
        return ""
    rows = []
    for name, c in calibration.items():
        b, a = c.before, c.after
        rows.append(
            [f"`{name}`", f"{c.temperature:g}", f"{b.ece:.3f} → {a.ece:.3f}",
             f"{b.nll:.3f} → {a.nll:.3f}",
             f"{b.mean_top_probability:.3f} → {a.mean_top_probability:.3f}",
             f"{b.share_top_probability_ge_confident:.0%} → "
             f"{a.share_top_probability_ge_confident:.0%}"]
        )  # fmt: skip
    head = ["file", "T", "ECE", "NLL", "mean top probability", f"top probability ≥ {CONFIDENT:g}"]
    return CALIBRATION.format(table=_table(rows, head))


def _sha256(path: Path) -> str:
    return Classifier(path).info.sha256  # the file's, as serving reports it


def _files(run: Run) -> str:
    exp = run.export
    assert exp is not None
    onnx = exp.onnx
    files = [f"- `{onnx.name}`: float32, {exp.bytes / 1e6:.1f} MB, sha256 `{_sha256(onnx)}`"]
    q = exp.int8
    qpath = onnx.with_name(onnx.stem + ".int8.onnx")
    if q is not None and qpath.is_file():
        files.append(
            f"- `{qpath.name}`: MatMul weights dynamically quantised to int8, "
            f"{q.bytes / 1e6:.1f} MB; top-1 agreement with float32 on the validation "
            f"images {q.top1_agreement_with_f32:.4f}, max |Δlogit| "
            f"{q.max_abs_logit_diff_vs_f32:.3g}, sha256 `{_sha256(qpath)}`"
        )
    return "\n".join(files)


def _compare(run: Run, compare: Path | None) -> str:
    """A `--split paper` run of the same recipe, cited for what a random split hides."""
    if compare is None or not (compare / REPORT).is_file():
        return ""
    c = Run.load(compare).report
    cv, val, paper = c.validation, run.report.validation, c.split.paper
    return (
        f"\nFor comparison, the same recipe on the paper's random split "
        f"(`--split paper`, {c.epochs_run} epochs) scored accuracy {cv.accuracy:.4f}, "
        f"macro F1 {cv.macro_f1:.4f}, loss {cv.loss:.4f} on its validation images, "
        f"{paper.near_duplicate_in_train} of which have a near-duplicate in "
        f"train and {paper.subject_in_train} a person in train. "
        + (
            f"The gap (+{cv.accuracy - val.accuracy:.4f}) is what a random split hides.\n"
            if cv.accuracy > val.accuracy
            else "Here the random split did not flatter the model; see Limits for why.\n"
        )
    )


def _synth_stats(data: Path) -> dict[str, Any]:
    """What `palsy-train synth` recorded beside the set (absent for other data sets)."""
    path = data / "synth_stats.json"
    return json.loads(path.read_text()) if path.is_file() else {}


# The role of a card written without a cross-validation (`--cv`): the first grader's finding.
ROLE_BEFORE_CV = (
    "The grader of 2026-12 gives it no weight: on the people it never trained on it added "
    "sensitivity only on synthetic warps like its training data, while on real photos held back "
    "from the project it separated palsy from healthy worse than the mouth-corner measure alone "
    "(AUROC 0.82 against 0.98, as reported when the grader was asked for)."
)
INPUTS = {
    ("eyes", "none"): "levelled on the pupils (`input` metadata: align eyes, mirror none)",
    ("midline", "none"): "levelled on the facial midline (`input`: align midline)",
    ("midline", "difference"): "levelled on the facial midline; the graph's first step after "
    "rescaling subtracts the crop's mirror image about its centre line, the midline (`input`: "
    "align midline, mirror difference)",
    ("eyes", "difference"): "levelled on the pupils; the graph subtracts the crop's mirror image "
    "(`input`: align eyes, mirror difference)",
}


def _cv(cv: Path | None) -> tuple[str, str]:
    """The cross-validation's card section and the role sentence it decides."""
    if cv is None:
        return "", ROLE_BEFORE_CV
    summary = json.loads((cv / SUMMARY).read_text())
    yes, sentence = adds(summary["compare"])
    role = sentence + (" The shipped grader weighs it." if yes else
                       " The shipped grader gives it no weight, and serving skips it.")  # fmt: skip
    return card_section(summary), role


def facts(
    run: Run, notes: list[str] | None = None, compare: Path | None = None, cv: Path | None = None
) -> dict[str, Any]:
    """Every value `TEMPLATE` names."""
    rep, exp = run.report, run.export
    if exp is None:
        raise FileNotFoundError(f"{run.path}: no export.json; run palsy-train export first")
    val, ds, split, cfg = rep.validation, rep.dataset, rep.split, rep.config
    used = split.chosen
    synth = _synth_stats(cfg.data)
    secs = rep.seconds_per_epoch_median
    cv_section, role = _cv(cv)
    return {
        "version": exp.metadata["version"],
        "role": role,
        "cv": cv_section,
        "input": INPUTS[(cfg.align, cfg.mirror)],
        "files": _files(run),
        "size": INPUT_SIZE,
        "n_classes": len(val.classes),
        "classes": exp.metadata["classes"],
        "opset": OPSET,
        "parity_images": exp.parity_images,
        "parity": exp.parity_max_abs_logit_diff,
        "tolerance": _sci(PARITY_TOLERANCE),
        "calibration": _calibration(run.calibration),
        "attribution": ATTRIBUTION,
        "images": ds.images,
        "variants": synth.get("variants_per_photo_and_class", "?"),
        "n_data_classes": len(ds.classes),
        "counts": ", ".join(f"{c} {n}" for c, n in ds.per_class.items()),
        "subset_note": f" {synth['note']}." if synth.get("note") else "",
        "s": SETTINGS,
        "severity": _severity_table(),
        "jitter": 2 * SETTINGS.jitter_ipd,
        "shift": 100 * SETTINGS.shift,
        "glasses": 100 * SETTINGS.glasses,
        "hand": 100 * SETTINGS.hand,
        "blur": 100 * SETTINGS.blur,
        "noise": 100 * SETTINGS.noise,
        "faces_not_found": ds.faces_not_found,
        "unreadable": len(ds.unreadable),
        "filters": "/".join(map(str, network.FILTERS)),
        "mirror_step": "" if cfg.mirror == "none" else " x minus its mirror image (no weights);",
        "kernel": network.KERNEL,
        "dropout": network.DROPOUT,
        "dense": network.DENSE_UNITS,
        "parameters": run.parameters(),
        "learning_rate": cfg.learning_rate,
        "lr_note": ""
        if cfg.learning_rate == PAPER_LEARNING_RATE
        else f"; the paper uses Keras' default {_sci(PAPER_LEARNING_RATE)}",
        "batch_size": cfg.batch_size,
        "epochs_run": rep.epochs_run,
        "epochs": cfg.epochs,
        "seed": cfg.seed,
        "weights_note": "The shipped weights are those of the last epoch (no epoch picked on "
        "validation)."
        if cfg.patience is None
        else f"Early stopping: training stopped after {cfg.patience} epochs without a lower "
        "validation loss, and the shipped weights are those of the epoch with the lowest "
        "(so the validation figures below are slightly optimistic).",
        "augment": f"on (`--augment`: {AUGMENTATION.describe()})"
        if cfg.augment
        else "off (paper parity)",
        "seconds_per_epoch": secs if secs is None else round(secs, 1),
        "split": split.used,
        "train_images": used.train_images,
        "train_subjects": _or_unknown(used.train_subjects),
        "validation_images": used.validation_images,
        "validation_subjects": _or_unknown(used.validation_subjects),
        "group_source": split.group_source,
        "near_duplicates": used.near_duplicate_in_train,
        "ece_bins": val.ece_bins,
        "accuracy": val.accuracy,
        "loss": val.loss,
        "macro_f1": val.macro_f1,
        "ece": val.ece,
        "coarse": _coarse(val),
        "per_class": _per_class(val),
        "confusion": _confusion(val),
        "validation_split": cfg.validation_split,
        "paper": split.paper,
        "compare": _compare(run, compare),
        "notes": "".join(f"- {n}\n" for n in (notes or [])),
    }


def write_card(
    run: Path, out: Path, notes: list[str] | None = None, compare: Path | None = None,
    cv: Path | None = None,
) -> Path:  # fmt: skip
    out.write_text(TEMPLATE.format_map(facts(Run.load(run), notes, compare, cv)))
    return out


def card_section(summary: dict[str, Any]) -> str:
    """The model card's section on the cross-validation (`palsy-train card --cv`)."""
    cfg, comp, folds = summary["config"], summary["compare"], summary["folds"]
    yes, sentence = adds(comp)
    fold_rows = "\n".join(
        f"| {f['fold']} | {len(f['held_out_people'])} | {f['train_images']} | "
        f"{f['epochs_run']} | {f['best_epoch']} | {f['seconds_per_epoch_median']:.0f} | "
        f"{f['held_out_train_set_accuracy']:.3f} |"
        for f in folds
    )
    auc_rows = []
    for name, key in (("CNN alone, 1 - P(normal)", "cnn_alone"),
                      ("grader without the CNN", "grader_without_cnn"),
                      ("grader with the CNN", "grader_with_cnn")):  # fmt: skip
        a = comp[key] if key == "cnn_alone" else comp[key]["auroc_p_palsy"]
        cells = " | ".join(f"{a[g][r]:.3f}" for g in GROUPS for r in ("all", "mouth", "eye"))
        auc_rows.append(f"| {name} | {cells} |")
    told_rows = []
    for key, name in (("grader_without_cnn", "without"), ("grader_with_cnn", "with")):
        g, palsy = comp[key], comp[key]["palsy_synthetic"]
        told_rows.append(
            f"| {name} | {g['healthy_real']['no_signs']:.1%} | "
            f"{g['healthy_synthetic']['no_signs']:.1%} | {palsy['all']['flagged']:.1%} | "
            f"{palsy['severe_mouth']['flagged']:.1%} | {palsy['severe_eye']['flagged']:.1%} |"
        )
    align = "facial midline" if cfg["align"] == "midline" else "pupils"
    serving = (
        "The shipped grader weighs it and serving runs it."
        if yes
        else "The shipped grader gives it no weight and serving skips it (`palsy-check --cnn` "
        "runs it in shadow)."
    )
    return CV_SECTION.format(
        folds=cfg["folds"], align=align, mirror=cfg["mirror"], lr=cfg["learning_rate"],
        patience=cfg["patience"], share=cfg["early_stop_share"], epochs=cfg["epochs"],
        train_set=cfg["train_set"], photos=comp["photos"], people=comp["people"],
        fold_rows=fold_rows, auc_rows="\n".join(auc_rows), told_rows="\n".join(told_rows),
        decision=f"{sentence} {serving}",
    )  # fmt: skip


CV_SECTION = """
## Cross-validated by person, alone and in the grader

`palsy-train cv-cnn` ({folds} folds, the grader's own person folds): per fold, this recipe
(the crop levelled on the {align}, mirror `{mirror}`, Adam {lr:g}, augmentation, early
stopping after {patience} epochs without a better loss on {share:.0%} of the training people,
at most {epochs} epochs) trained on `{train_set}` images of the other folds' people, then
scored every grader photo of the held-out people (the real London photos, the phone-like
healthy copies and the corrected warps of the grader's set: {photos} photos of {people}
people).

| fold | people held out | train images | epochs | best epoch | s / epoch | held-out accuracy |
|---|---|---|---|---|---|---|
{fold_rows}

(Held-out accuracy: seven classes, on the training set's images of the held-out people.)

AUROC on held-out people, synthetic palsy against each healthy group (all palsy, mouth, eye):

| score | London all | London mouth | London eye | copies all | copies mouth | copies eye |
|---|---|---|---|---|---|---|
{auc_rows}

The grader cross-validated on the same folds (its CNN weight learned from the other people's
out-of-fold probabilities), at the same policy rates:

| grader | London: no signs | copies: no signs | palsy flagged | severe mouth | severe eye |
|---|---|---|---|---|---|
{told_rows}

**Decision:** {decision}
"""
