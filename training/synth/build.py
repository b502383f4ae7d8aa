"""The whole set: every photo, class and variant written as folder-per-class JPEGs, plus
manifest, subjects and stats; a contact sheet to look at."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from training.synth.appearance import render
from training.synth.palsy import sample_palsy
from training.synth.points import FacePoints, mesh_points, tem_points
from training.synth.settings import ATTRIBUTION, CLASSES, SEVERITY
from training.synth.source import load_source


def source_jobs(london: Path) -> list[tuple[str, Path]]:
    """(subject, photo) pairs: every neutral photo with a template, and every smiling photo."""
    jobs = [(p.stem.split("_")[0], p) for p in sorted((london / "neutral").glob("*.jpg"))]
    jobs += [(p.stem.split("_")[0], p) for p in sorted((london / "smiling").glob("*.jpg"))]
    return jobs


class _MeshSource:
    """Landmarks for photos without a template, through model.face.locate's FaceLocator (lazy)."""

    def __init__(self) -> None:
        from model.face.locate import FaceLocator

        self.locator = FaceLocator()

    def points(self, path: Path) -> FacePoints | None:
        from model import Rejected

        rgb = np.asarray(Image.open(path).convert("RGB"))
        try:
            return mesh_points(self.locator.locate(rgb).mesh)
        except Rejected:
            return None


_MESH: _MeshSource | None = None


def generate_photo(args: tuple[str, Path, Path, int, int]) -> list[dict[str, str]]:
    """All variants of one photo; returns manifest rows. Runs in a worker process."""
    global _MESH
    subject, photo, out, variants, seed = args
    tem = photo.with_suffix(".tem")
    if tem.exists():
        points = tem_points(tem)
    else:
        if _MESH is None:
            _MESH = _MeshSource()
        found = _MESH.points(photo)
        if found is None:
            return []
        points = found
    source = load_source(photo, points)
    rows = []
    for ci, label in enumerate(CLASSES):
        for k in range(variants):
            rng = np.random.default_rng([seed, int(subject), source.kind == "smiling", ci, k])
            palsy = sample_palsy(label, rng)
            img, quality = render(source, palsy, rng)
            name = f"{subject}_{source.kind}_{k}.jpg"
            (out / label).mkdir(parents=True, exist_ok=True)
            img.save(out / label / name, quality=quality)
            side = {None: "", 0: "image_left", 1: "image_right"}[palsy.side]
            rows.append(
                {
                    "file": f"{label}/{name}",
                    "class": label,
                    "subject": subject,
                    "photo": source.kind,
                    "side": side,
                    "jpeg_quality": str(quality),
                    "params_ipd": json.dumps({k2: round(v, 4) for k2, v in palsy.params.items()}),
                }
            )
    return rows


def build(
    london: Path, out: Path, variants: int = 3, seed: int = 1234, workers: int = 1,
    limit: int | None = None,
) -> dict[str, object]:  # fmt: skip
    """Write the synthetic set as folder-per-class JPEGs plus `subjects.csv` and `manifest.csv`."""
    from tqdm import tqdm

    jobs = source_jobs(london)
    if limit:
        keep = sorted({s for s, _ in jobs})[:limit]
        jobs = [j for j in jobs if j[0] in keep]
    out.mkdir(parents=True, exist_ok=True)
    tasks = [(s, p, out, variants, seed) for s, p in jobs]
    rows: list[dict[str, str]] = []
    skipped: list[str] = []
    if workers > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            results = pool.imap(generate_photo, tasks)
            for task, res in tqdm(zip(tasks, results, strict=True), total=len(tasks), desc="synth"):
                rows += res
                if not res:
                    skipped.append(str(task[1]))
    else:
        for task in tqdm(tasks, desc="synth"):
            res = generate_photo(task)
            rows += res
            if not res:
                skipped.append(str(task[1]))
    rows.sort(key=lambda r: r["file"])
    with open(out / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with open(out / "subjects.csv", "w", newline="") as f:
        pairs = csv.writer(f)
        pairs.writerow(["file", "subject"])
        pairs.writerows((r["file"], r["subject"]) for r in rows)
    (out / "ATTRIBUTION.txt").write_text(ATTRIBUTION + "\n")
    stats = {
        "images": len(rows),
        "per_class": {c: sum(r["class"] == c for r in rows) for c in CLASSES},
        "subjects": len({r["subject"] for r in rows}),
        "photos_skipped_no_face": skipped,
        "variants_per_photo_and_class": variants,
        "seed": seed,
        "severity_ranges_ipd": SEVERITY,
    }
    (out / "synth_stats.json").write_text(json.dumps(stats, indent=2))
    return stats


def contact_sheet(data: Path, out: Path, subjects: int = 3, thumb: int = 144) -> Path:
    """A small grid of generated samples (rows: photos, columns: classes) with attribution."""
    rows = list(csv.DictReader(open(data / "manifest.csv")))
    picks = sorted({(r["subject"], r["photo"]) for r in rows})
    step = max(1, len(picks) // subjects)
    chosen = picks[::step][:subjects]
    label_h, foot = 18, 40
    sheet = Image.new("RGB", (thumb * len(CLASSES), label_h + thumb * len(chosen) + foot), "white")
    draw = ImageDraw.Draw(sheet)
    for ci, label in enumerate(CLASSES):
        draw.text((ci * thumb + 4, 3), label, fill="black")
        for ri, (subject, photo) in enumerate(chosen):
            path = data / label / f"{subject}_{photo}_0.jpg"
            if path.exists():
                img = Image.open(path).convert("RGB")
                w = img.width
                img = img.crop((w * 0.2, w * 0.15, w * 0.8, w * 0.75)).resize((thumb, thumb))
                sheet.paste(img, (ci * thumb, label_h + ri * thumb))
    y = label_h + thumb * len(chosen) + 3
    text = ATTRIBUTION
    cut = len(text) // 2
    cut = text.rfind(" ", 0, cut + 20)
    draw.text((4, y), text[:cut], fill="black")
    draw.text((4, y + 16), text[cut + 1 :], fill="black")
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, quality=85)
    return out


def default_workers() -> int:
    return max(1, min(2, (os.cpu_count() or 1)))
