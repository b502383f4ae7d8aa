"""MODEL_CARD.md from a run's report.json and export.json (what was done, not what was planned)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from model.cnn.classifier import sha256_of
from model.cnn.contract import INPUT_SIZE
from training.synth import ATTRIBUTION, JITTER_IPD, MEDIAL_SHIFT, SEVERITY
from training.train import AUGMENTATION


def _table(rows: list[list[str]], head: list[str]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


AUGMENT_TEXT = f"on (`--augment`: {AUGMENTATION.describe()})"


def _coarse(val: dict) -> str:
    """The triage view: region right at any severity, and palsy vs normal."""
    if "region_accuracy" not in val:
        return ""
    text = f"Region (eye, mouth or normal) right at any severity: {val['region_accuracy']:.4f}"
    if "sensitivity" in val:
        text += (
            f"; palsy images given some palsy class (sensitivity): {val['sensitivity']:.4f}; "
            f"normal images called normal (specificity): {val['specificity']:.4f}"
        )
    return text + "."


def _confusion(val: dict[str, Any]) -> str:
    classes = val["classes"]
    rows = [
        [f"**{c}**", *map(str, r)] for c, r in zip(classes, val["confusion_matrix"], strict=True)
    ]
    return _table(rows, ["true \\ predicted", *classes])


def _severity_table() -> str:
    rows = []
    for sev in ("mild", "moderate", "severe"):
        (ur, dr, br), (cd, fl) = SEVERITY["eye"][sev], SEVERITY["mouth"][sev]
        rows.append(
            [
                sev,
                f"{ur[0]:.3f}–{ur[1]:.3f}",
                f"{dr[0]:.3f}–{dr[1]:.3f}",
                f"{br[0]:.3f}–{br[1]:.3f}",
                f"{cd[0]:.3f}–{cd[1]:.3f}",
                f"{fl[0]:.2f}–{fl[1]:.2f}",
            ]
        )
    head = ["severity", "upper lid up", "lower lid down", "brow down", "mouth corner down",
            "lip flattening (fraction)"]  # fmt: skip
    return _table(rows, head)


def _calibration(path: Path) -> str:
    """The card's calibration section, from `palsy-train calibrate`'s calibration.json."""
    if not path.is_file():
        return ""
    rows = []
    for name, c in json.loads(path.read_text()).items():
        b, a = c["before"], c["after"]
        rows.append(
            [f"`{name}`", f"{c['temperature']:g}", f"{b['ece']:.3f} → {a['ece']:.3f}",
             f"{b['nll']:.3f} → {a['nll']:.3f}",
             f"{b['mean_top_probability']:.3f} → {a['mean_top_probability']:.3f}",
             f"{b['share_top_probability_ge_0.5']:.0%} → {a['share_top_probability_ge_0.5']:.0%}"]
        )  # fmt: skip
    table = _table(
        rows, ["file", "T", "ECE", "NLL", "mean top probability", "top probability ≥ 0.5"]
    )
    return f"""
## Calibration

The logits are divided by a temperature T fitted on the validation images (`palsy-train
calibrate`, which minimises their negative log-likelihood; stored as metadata `calibration`).
Ranking and accuracy do not change; the probabilities then say how much the model really knows.
A grader fitted with `palsy-train fit-grader --cnn` reads these calibrated probabilities.

{table}
"""


def write_card(
    run: Path, out: Path, notes: list[str] | None = None, compare: Path | None = None
) -> Path:
    rep = json.loads((run / "report.json").read_text())
    exp = json.loads((run / "export.json").read_text())
    val, ds, split, cfg = rep["validation"], rep["dataset"], rep["split"], rep["config"]
    onnx = Path(exp["onnx"])
    synth_stats = Path(cfg["data"]) / "synth_stats.json"
    synth = json.loads(synth_stats.read_text()) if synth_stats.is_file() else {}
    used = split[split["used"]]
    per_class = _table(
        [
            [c, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(m["support"])]
            for c, m in val["per_class"].items()
        ],
        ["class", "precision", "recall", "F1", "support"],
    )
    files = [f"- `{onnx.name}`: float32, {exp['bytes'] / 1e6:.1f} MB, sha256 `{sha256_of(onnx)}`"]
    if exp.get("int8"):
        q = exp["int8"]
        qpath = onnx.with_name(onnx.stem + ".int8.onnx")
        if qpath.is_file():
            files.append(
                f"- `{qpath.name}`: MatMul weights dynamically quantised to int8, "
                f"{q['bytes'] / 1e6:.1f} MB; top-1 agreement with float32 on the validation "
                f"images {q['top1_agreement_with_f32']:.4f}, max |Δlogit| "
                f"{q['max_abs_logit_diff_vs_f32']:.3g}, sha256 `{sha256_of(qpath)}`"
            )
    paper = split["paper"]
    compare_text = ""
    if compare is not None and (compare / "report.json").is_file():
        c = json.loads((compare / "report.json").read_text())
        cv = c["validation"]
        compare_text = (
            f"\nFor comparison, the same recipe on the paper's random split "
            f"(`--split paper`, {c['epochs_run']} epochs) scored accuracy {cv['accuracy']:.4f}, "
            f"macro F1 {cv['macro_f1']:.4f}, loss {cv['loss']:.4f} on its validation images, "
            f"{c['split']['paper']['near_duplicate_in_train']} of which have a near-duplicate in "
            f"train and {c['split']['paper']['subject_in_train']} a person in train. "
            + (
                f"The gap (+{cv['accuracy'] - val['accuracy']:.4f}) is what a random split hides.\n"
                if cv["accuracy"] > val["accuracy"]
                else "Here the random split did not flatter the model; see Limits for why.\n"
            )
        )
    extra = "".join(f"- {n}\n" for n in (notes or []))
    calibration = _calibration(run / "calibration.json")
    meta = exp["metadata"]
    lr = float(cfg.get("learning_rate", 1e-3))
    lr_note = "" if lr == 1e-3 else "; the paper uses Keras' default 1e-3"
    counts = ", ".join(f"{c} {n}" for c, n in ds["per_class"].items())
    subset_note = f" {synth['note']}." if synth.get("note") else ""
    secs = rep.get("seconds_per_epoch_median")
    text = f"""# Model card: palsy classifier `{meta["version"]}`

> **Not validated on real patients. Not for clinical use.** This model has never seen a photo of
> a person with facial palsy: it was trained on *synthetic* palsy. Its metadata says
> `clinical_validation = none`, and palsy-check and the bot show that notice with every result.
> Any sudden facial droop is an emergency: call for help at once (BE-FAST).

**Its role now:** the screen decides from calibrated facial measures through the grader
(`grader.json`, card: [GRADER_CARD.md](GRADER_CARD.md)). This CNN runs on every photo and its
probabilities are logged and shown, but the shipped grader gives it no weight: on the people it
never trained on it added sensitivity only on synthetic warps like its training data, while on
real photos held back from the project it separated palsy from healthy worse than the
mouth-corner measure alone (AUROC 0.82 against 0.98, as reported when the grader was asked for).

## Files

{chr(10).join(files)}

Contract (`model/cnn/contract.py`): one float32 input `[N, {INPUT_SIZE}, {INPUT_SIZE}, 3]` (RGB
0–255, the crop made by `model.face.preprocess.classifier_input`), one output of logits
`[N, {len(val["classes"])}]`, classes in output order `{meta["classes"]}`. ONNX opset 17,
dynamic batch. Keras vs ONNX Runtime parity over the {exp["parity_images"]} validation images:
max |Δlogit| = {exp["parity_max_abs_logit_diff"]:.3g} (the export fails above 1e-4).
{calibration}
## Intended use

Demonstrating and testing the palsy-screen pipeline (bot, palsy-check, retraining) end to end,
and a baseline to compare retrained models against. Not for screening real people: for that a
model must be trained or validated on real, consented clinical photos and the metadata key
`clinical_validation` must describe that study.

## Data

{ATTRIBUTION}

The London set holds 102 healthy adults (aged 18–54; 53 male, 49 female), a neutral and a smiling
photo each, who consented to altered use of their images. `palsy-train synth` made
{ds["images"]} images ({synth.get("variants_per_photo_and_class", "?")} per photo and class) in
{len(ds["classes"])} classes: {counts}.{subset_note}

- **Palsy is simulated on one side** (image-left or image-right at random) by moving landmarks
  and warping the image (moving least squares). Control points: the hand-placed `.tem` templates
  for neutral photos, model/'s face-mesh landmarks for smiling photos.
- Eye classes widen the palpebral fissure (upper lid up, lower lid down; the outer corner follows
  the lower lid by 0.3 and the skin below the eye by 0.5) and drop the brow (the lateral end
  more). Mouth classes drop the mouth corner, move it towards the midline by {MEDIAL_SHIFT} of the
  drop, and flatten that side of the lips towards their centre line. Ranges, in units of
  inter-pupil distance, drawn uniformly:

{_severity_table()}

- Every image (`normal` too) gets an independent random shift of up to {2 * JITTER_IPD:.3f} IPD on
  every feature of both sides (natural asymmetry) and goes through the same warp.
- Randomised: background (the studio grey keyed out and replaced by flat, gradient, smooth or
  cluttered backgrounds), scale 0.8–1.15, shift ±6 %, rotation ±8°, directional light, gamma,
  white balance, saturation, glasses (20 %), a hand at the chin (12 %), blur (50 %), noise
  (50 %), JPEG quality 40–95.
- Faces not found by the detector (the whole image is then used): {ds["faces_not_found"]} of
  {ds["images"]}. Unreadable files: {len(ds["unreadable"])}.

## Training

The paper's recipe (Dua & Sharma 2025): Rescaling(1/255); Conv2D 16/32/64/128 (3×3, relu,
'same'), each followed by MaxPooling2D and Dropout(0.25); Flatten; Dense(256, relu);
Dense({len(val["classes"])}) logits; {"6,522,023" if len(val["classes"]) == 7 else "see report"}
parameters. Adam (learning rate {cfg.get("learning_rate", 1e-3):g}{lr_note}),
SparseCategoricalCrossentropy(from_logits=True), batch
{cfg["batch_size"]}, **{rep["epochs_run"]} epochs** (configured: {cfg["epochs"]}), seed
{cfg["seed"]}, augmentation {AUGMENT_TEXT if cfg["augment"] else "off (paper parity)"}. The shipped
weights are those of the last epoch (no epoch picked on validation). Median
{secs if secs is None else round(secs, 1)} s per epoch on the shared 2-core build machine.

## Validation (leak-free)

Split by person (`--split {split["used"]}`): {used["train_images"]} training images from
{used.get("train_subjects", "?")} people, {used["validation_images"]} validation images from
{used.get("validation_subjects", "?")} other people ({split["group_source"]} groups: no person on
both sides). {used["near_duplicate_in_train"]} validation images still have a pHash match in train:
different people whose hashes collide, the hash's chance rate on aligned face crops.

| accuracy | loss | macro F1 | ECE ({val["ece_bins"]} bins) |
|---|---|---|---|
| {val["accuracy"]:.4f} | {val["loss"]:.4f} | {val["macro_f1"]:.4f} | {val["ece"]:.4f} |

{_coarse(val)}

{per_class}

Confusion matrix (rows: true class, columns: predicted):

{_confusion(val)}

### What a random split hides

With the paper's split (`validation_split=0.2`, seed {cfg["seed"]}, random over images) on the
same set, {paper["near_duplicate_in_train"]} of {paper["validation_images"]} validation images
have a near-duplicate in train (pHash within {paper["hamming_threshold_bits"]} bits, mirror
included; compare {used["near_duplicate_in_train"]} of {used["validation_images"]} by chance in the
person split) and {paper["subject_in_train"]} show a person who is also in train.
{compare_text}
## Limits

- Not validated on real patients; not for clinical use. Real palsy differs from these warps
  (muscle tone, skin folds, nasolabial fold, eye closure, dynamics).
- 102 people, mostly white (69), photographed in one studio; smiling and neutral expressions
  only; adults 18–54. Performance on other groups, ages and cameras is unknown.
- Severity levels are bands of a synthetic displacement, not clinical grades (House–Brackmann).
- Validation images come from the same synthetic process as training images: the figures above
  measure how well the model learned the generator, not palsy.
{extra}"""
    out.write_text(text)
    return out
