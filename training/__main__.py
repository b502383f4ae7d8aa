"""palsy-train: build the synthetic set, train the paper CNN, export to ONNX, evaluate.

palsy-train synth    --london ../shared/data/faces/london --out data/synth
palsy-train train    data/synth --out runs/default [--split grouped|paper] [--epochs 50]
palsy-train export   runs/default --out model/assets/classifier.onnx [--int8 PATH]
palsy-train calibrate runs/default --model model/assets/classifier.onnx
palsy-train card     runs/default --out model/assets/MODEL_CARD.md
palsy-train evaluate model/assets/classifier.onnx data/synth [--run runs/default]
palsy-train evaluate-grader --synth data/synth1 --out runs/grader [--card PATH]
palsy-train fit-grader --synth data/synth1 --out model/assets/grader.json --version V
palsy-train evaluate-exam --out runs/exam [--card PATH]
palsy-train fit-exam --out model/assets/exam.json --version V
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training.cnn.run import REPORT, to_json
from training.synth import default_workers

DEFAULT_DESCRIPTION = (
    "Trained on synthetic facial palsy: one-sided landmark warps of healthy, consenting adults "
    "from the Face Research Lab London Set (DeBruine & Jones 2017, CC BY 4.0, "
    "https://doi.org/10.6084/m9.figshare.5047666.v5). No real patients. Not for clinical use."
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="palsy-train", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("synth", help="build the synthetic palsy set from the London faces")
    s.add_argument("--london", type=Path, default=Path("../shared/data/faces/london"))
    s.add_argument("--out", type=Path, default=Path("data/synth"))
    s.add_argument("--variants", type=int, default=3, help="images per photo and class")
    s.add_argument("--seed", type=int, default=1234)
    s.add_argument("--workers", type=int, default=default_workers())
    s.add_argument("--limit", type=int, default=None, help="only the first N people")
    s.add_argument("--contact-sheet", type=Path, default=None, help="also write a sample grid")

    t = sub.add_parser("train", help="train the paper CNN on a folder-per-class directory")
    t.add_argument("data", type=Path)
    t.add_argument("--out", type=Path, required=True, help="run folder")
    t.add_argument("--split", choices=("grouped", "paper"), default="grouped")
    t.add_argument("--validation-split", type=float, default=0.2)
    t.add_argument("--seed", type=int, default=123)
    t.add_argument("--epochs", type=int, default=50)
    t.add_argument("--batch-size", type=int, default=16)
    t.add_argument("--augment", action="store_true", help="brightness/contrast/rotation/...")
    t.add_argument("--cache", type=Path, default=Path("cache"), help="preprocessed-array cache")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--learning-rate", type=float, default=1e-3, help="Adam (paper: 1e-3)")
    t.add_argument(
        "--time-budget-min", type=float, default=None, help="stop early rather than overrun"
    )
    _input_options(t)
    t.add_argument(
        "--patience", type=int, default=None,
        help="early stopping: epochs without a better validation loss (keeps the best)",
    )  # fmt: skip

    e = sub.add_parser("export", help="export a run to ONNX (parity-checked)")
    e.add_argument("run", type=Path)
    e.add_argument("--out", type=Path, default=Path("model/assets/classifier.onnx"))
    e.add_argument("--int8", type=Path, default=None, help="also write an int8 variant here")
    e.add_argument("--version", default=None, help="model version (default: run folder name)")
    e.add_argument("--description", default=DEFAULT_DESCRIPTION)
    e.add_argument("--clinical-validation", default="none")

    k = sub.add_parser(
        "calibrate", help="temperature-scale exported models on the run's validation images"
    )
    k.add_argument("run", type=Path)
    k.add_argument("--model", type=Path, action="append", required=True, help="ONNX, in place")

    c = sub.add_parser("card", help="write MODEL_CARD.md for an exported run")
    c.add_argument("run", type=Path)
    c.add_argument("--out", type=Path, default=Path("model/assets/MODEL_CARD.md"))
    c.add_argument("--compare", type=Path, default=None, help="a --split paper run to cite")
    c.add_argument("--note", action="append", default=[], help="a line for the Limits section")
    c.add_argument("--cv", type=Path, default=None, help="a palsy-train cv-cnn folder to report")

    v = sub.add_parser("evaluate", help="evaluate an ONNX classifier on a folder-per-class set")
    v.add_argument("model", type=Path)
    v.add_argument("data", type=Path)
    v.add_argument("--run", type=Path, default=None, help="use this run's validation images")
    v.add_argument("--all", action="store_true", help="evaluate on every image, not a split")
    v.add_argument("--split", choices=("grouped", "paper"), default="grouped")
    v.add_argument("--out", type=Path, default=None, help="folder for report JSON and PNG")
    v.add_argument("--cache", type=Path, default=Path("cache"))

    x = sub.add_parser(
        "cv-cnn",
        help="person-grouped cross-validation of the CNN, alone and in the grader",
    )
    x.add_argument("--train-set", type=Path, default=Path("data/synth1"),
                   help="the CNN's training images (palsy-train synth --variants 1)")  # fmt: skip
    x.add_argument("--synth", type=Path, default=Path("data/synth3"), help="the grader's set")
    x.add_argument("--london", type=Path, default=Path("../shared/data/faces/london"))
    x.add_argument("--out", type=Path, default=Path("runs/cnn-cv"))
    x.add_argument("--cache", type=Path, default=Path("cache"))
    x.add_argument("--folds", type=int, default=5)
    x.add_argument("--epochs", type=int, default=30)
    x.add_argument("--patience", type=int, default=5)
    x.add_argument("--learning-rate", type=float, default=1e-4)
    x.add_argument("--threads", type=int, default=2)
    x.add_argument("--limit", type=int, default=None, help="only the first N people")
    _input_options(x, default_align="midline", default_mirror="difference")

    for name, helptext, synthetic in (
        ("fit-grader", "fit the grader on the London photos and a synthetic set", True),
        ("evaluate-grader", "person-grouped cross-validation of the grader, +/- CNN", True),
        ("fit-exam", "fit the FAST exam's thresholds on the London rest -> smile pairs", False),
        ("evaluate-exam", "person-grouped cross-validation of the FAST exam, with warps", False),
    ):
        m = sub.add_parser(name, help=helptext)
        m.add_argument("--london", type=Path, default=Path("../shared/data/faces/london"))
        m.add_argument("--cache", type=Path, default=Path("cache"))
        m.add_argument("--limit", type=int, default=None, help="only the first N people")
        what = name.split("-")[1]
        if synthetic:
            m.add_argument("--synth", type=Path, default=Path("data/synth1"))
            m.add_argument("--model", type=Path, default=None, help="classifier (default: ours)")
        if name.startswith("fit"):
            m.add_argument("--out", type=Path, default=Path(f"runs/{what}/{what}.json"))
            m.add_argument("--version", required=True)
        else:
            m.add_argument("--out", type=Path, default=Path(f"runs/{what}"))
            m.add_argument("--folds", type=int, default=5)
            m.add_argument("--card", type=Path, default=None, help=f"also write the {what} card")
    sub.choices["fit-grader"].add_argument(
        "--cnn", action="store_true", help="give the CNN's probabilities a weight"
    )
    for name in ("fit-grader", "evaluate-grader"):
        sub.choices[name].add_argument(
            "--features", type=_features, default=None,
            help="comma-separated grader features (default: training.grader.fit.GRADER_FEATURES)",
        )  # fmt: skip
        sub.choices[name].add_argument(
            "--cnn-oof", type=Path, default=None,
            help="the CNN's out-of-fold probabilities (palsy-train cv-cnn's cnn_oof.json)",
        )  # fmt: skip
    return p


def _input_options(
    parser: argparse.ArgumentParser, default_align: str = "eyes", default_mirror: str = "none"
) -> None:
    """The classifier contract's `input` (model.cnn.contract.ALIGNS, MIRRORS)."""
    from model.cnn.contract import ALIGNS, MIRRORS

    parser.add_argument(
        "--align", choices=ALIGNS, default=default_align,
        help="crop levelled on the pupils (paper) or on the facial midline",
    )  # fmt: skip
    parser.add_argument(
        "--mirror", choices=MIRRORS, default=default_mirror,
        help="difference: the network sees the crop minus its mirror image",
    )  # fmt: skip


def _features(text: str) -> tuple[str, ...]:
    from model.decision.grader import FEATURES

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in FEATURES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown features {unknown}; known: {', '.join(FEATURES)}"
        )
    return names


def _cv_cnn(args: argparse.Namespace) -> int:
    from training.cnn.cv import CvConfig, compare, cross_validate_cnn
    from training.grader.data import load_rows

    if not (_grader_data_ok(args) and _data_ok(args.train_set, "training set")):
        return 2
    rows, _ = load_rows(args.london, args.synth, args.cache, None, args.limit)
    cfg = CvConfig(
        args.train_set, args.out, args.folds, epochs=args.epochs, patience=args.patience,
        learning_rate=args.learning_rate, align=args.align, mirror=args.mirror,
        cache=args.cache, threads=args.threads,
    )  # fmt: skip
    summary = cross_validate_cnn(cfg, rows)
    oof = json.loads((args.out / "cnn_oof.json").read_text())
    summary["compare"] = compare(rows, oof, args.folds)
    (args.out / "cnn_cv.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary["compare"], indent=1))
    return 0


def _fit_exam(args: argparse.Namespace) -> int:
    from training.exam.fit import fit_command

    if not _data_ok(args.london / "neutral", "London set"):
        return 2
    params = fit_command(args.london, args.out, args.version, args.cache, args.limit)
    print(
        f"exam {params.version}: smile needs {params.min_smile:.3f} IPD; no signs below "
        f"P(one side weak) {params.clear_below:.3f}, weak from {params.finding_at:.3f}"
    )
    return 0


def _evaluate_exam(args: argparse.Namespace) -> int:
    from training.exam.evaluate import evaluate_command

    if not _data_ok(args.london / "neutral", "London set"):
        return 2
    report = evaluate_command(args.london, args.out, args.folds, args.cache, args.limit, args.card)
    print(json.dumps(report, indent=1))
    return 0


def _data_ok(path: Path, what: str) -> bool:
    if not path.is_dir():
        print(f"palsy-train: no {what} at {path}", file=sys.stderr)
        return False
    return True


def _grader_data_ok(args: argparse.Namespace) -> bool:
    return _data_ok(args.london / "neutral", "London set") and _data_ok(args.synth, "synthetic set")


def _fit_grader(args: argparse.Namespace) -> int:
    from training.grader.fit import fit_command

    if not _grader_data_ok(args):
        return 2
    params = fit_command(args.london, args.synth, args.out, args.cache, args.version, args.cnn,
                         args.model, args.limit, cnn_oof=args.cnn_oof, **_chosen(args))  # fmt: skip
    print(f"grader {params.version}: no signs below P(palsy) {params.clear_below:.3f}, finding "
          f"from {params.finding_at:.3f}; written to {args.out}")  # fmt: skip
    return 0


def _chosen(args: argparse.Namespace) -> dict[str, tuple[str, ...]]:
    return {} if args.features is None else {"features": args.features}


def _evaluate_grader(args: argparse.Namespace) -> int:
    from training.grader.evaluate import evaluate_command

    if not _grader_data_ok(args):
        return 2
    evaluate_command(args.london, args.synth, args.out, args.cache, args.model, args.folds,
                     args.limit, args.card, cnn_oof=args.cnn_oof, **_chosen(args))  # fmt: skip
    return 0


def _synth(args: argparse.Namespace) -> int:
    from training.synth import build, contact_sheet

    if not (args.london / "neutral").is_dir():
        print(f"palsy-train: no London set at {args.london}", file=sys.stderr)
        return 2
    stats = build(args.london, args.out, args.variants, args.seed, args.workers, args.limit)
    if args.contact_sheet:
        contact_sheet(args.out, args.contact_sheet)
    print(json.dumps({k: v for k, v in stats.items() if k != "severity_ranges_ipd"}, indent=2))
    return 0


def _train(args: argparse.Namespace) -> int:
    from training.cnn.fit import train
    from training.cnn.run import TrainConfig

    cfg = TrainConfig(
        data=args.data, out=args.out, split=args.split, validation_split=args.validation_split,
        seed=args.seed, epochs=args.epochs, batch_size=args.batch_size, augment=args.augment,
        cache_dir=args.cache, threads=args.threads, learning_rate=args.learning_rate,
        time_budget_s=args.time_budget_min * 60 if args.time_budget_min else None,
        align=args.align, mirror=args.mirror, patience=args.patience,
    )  # fmt: skip
    report = train(cfg)
    val, paper = report.validation, report.split.paper
    region = float("nan") if val.region_accuracy is None else val.region_accuracy
    print(
        f"{cfg.split} split: validation accuracy {val.accuracy:.4f}, loss {val.loss:.4f}, "
        f"macro F1 {val.macro_f1:.4f}, ECE {val.ece:.4f}, region accuracy {region:.4f}; "
        f"paper split near-duplicates in train: {paper.near_duplicate_in_train}"
        f"/{paper.validation_images}; report: {cfg.out / REPORT}"
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    from training.cnn.export import ParityError, export_run

    try:
        summary = export_run(args.run, args.out, args.int8, args.version, args.description,
                             args.clinical_validation)  # fmt: skip
    except ParityError as exc:
        print(f"palsy-train export: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(to_json(summary), indent=2))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from training.cnn.evaluate import ClassMismatch, evaluate

    try:
        result = evaluate(args.model, args.data, args.run, args.all, args.split, args.out,
                          args.cache)  # fmt: skip
    except ClassMismatch as exc:
        print(f"palsy-train: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: v for k, v in result.items() if k != "per_class"}, indent=2))
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from training.cnn.calibrate import calibrate_run

    done = calibrate_run(args.run, args.model)
    print(json.dumps({name: to_json(c) for name, c in done.items()}, indent=2))
    return 0


def _card(args: argparse.Namespace) -> int:
    from training.cnn.card import write_card

    print(write_card(args.run, args.out, args.note, args.compare, args.cv))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {
        "synth": _synth,
        "train": _train,
        "export": _export,
        "calibrate": _calibrate,
        "card": _card,
        "evaluate": _evaluate,
        "fit-grader": _fit_grader,
        "evaluate-grader": _evaluate_grader,
        "fit-exam": _fit_exam,
        "evaluate-exam": _evaluate_exam,
        "cv-cnn": _cv_cnn,
    }
    return handler[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
