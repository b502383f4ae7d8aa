"""The exam's data: per London person, the measures of their rest and smile photos and of
synthetic changes to them (`training.exam.photos`), cached.

Per person: the neutral photo (rest), the smiling photo (a healthy smile, same session), a
re-encoded copy of the neutral photo (what measuring the same face twice gives), smile failures
of each of `STRENGTHS`, raised brows (both, or only the strong side's), and the face shape of the
smile under each camera change. Every photo goes through serving's own `Analyser.analyse`.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from model import Rejected
from model.measures.asymmetry import Measures, SideMeasures, face_shape
from model.measures.expression import Expression
from training.common import code_digest
from training.exam.photos import (
    BROW_RAISE,
    CAMERA,
    STABLE,
    failed_smile,
    forehead_hand,
    jpeg,
    keystone,
    nearer,
    raised_brows,
    reencode,
    relit,
    tilted,
)

STRENGTHS = (0.25, 0.5, 0.75, 1.0)  # share of one side's smile taken away

Seen = tuple[Measures, Expression | None]


@dataclass
class Person:
    subject: str
    rest: Seen
    smile: Seen
    again: Seen  # the rest photo re-encoded
    # "rest", "smile" and "smile:<camera change>" -> face shape.
    shapes: dict[str, np.ndarray]
    # (strength, weak side) -> warped smile; (kind) -> raised-brow photo.
    failed_smiles: dict[tuple[float, str], Seen] = field(default_factory=dict)
    brows: dict[str, Measures] = field(default_factory=dict)


def _seen_json(seen: Seen) -> dict[str, Any]:
    measures, expression = seen
    return {"measures": asdict(measures),
            "expression": None if expression is None else asdict(expression)}  # fmt: skip


def _seen(raw: dict[str, Any]) -> Seen:
    m = raw["measures"]
    measures = Measures(
        **{**m, "left": SideMeasures(**m["left"]), "right": SideMeasures(**m["right"])}
    )
    e = raw["expression"]
    return measures, None if e is None else Expression(e["left"], e["right"])


def _to_json(people: Sequence[Person]) -> list[dict[str, Any]]:
    return [
        {
            "subject": p.subject,
            **{k: _seen_json(getattr(p, k)) for k in ("rest", "smile", "again")},
            "shapes": {k: v.tolist() for k, v in p.shapes.items()},
            "failed_smiles": [[s, w, _seen_json(m)] for (s, w), m in p.failed_smiles.items()],
            "brows": {k: asdict(m) for k, m in p.brows.items()},
        }
        for p in people
    ]


def _from_json(raw: list[dict[str, Any]]) -> list[Person]:
    return [
        Person(
            r["subject"], _seen(r["rest"]), _seen(r["smile"]), _seen(r["again"]),
            {k: np.array(v) for k, v in r["shapes"].items()},
            {(s, w): _seen(m) for s, w, m in r["failed_smiles"]},
            {k: _seen({"measures": m, "expression": None})[0] for k, m in r["brows"].items()},
        )
        for r in raw
    ]  # fmt: skip


def measure_people(london: Path, analyser: Any, limit: int | None = None, warps: bool = True,
                   cache: Path | None = None) -> tuple[list[Person], list[str]]:  # fmt: skip
    """Every London person with a usable rest and smile photo, and the subjects skipped;
    cached by the measuring code, this module and the arguments."""
    digest = code_digest(analyser)
    # What makes the photos (not the card's wording or the fitting): warps, re-encoding, camera.
    for fn in (reencode, failed_smile, raised_brows, _measure_people, jpeg, nearer, tilted,
               relit, keystone, forehead_hand):  # fmt: skip
        digest.update(inspect.getsource(fn).encode())
    digest.update(f"{STRENGTHS}|{BROW_RAISE}|{STABLE}|{sorted(CAMERA)}".encode())
    digest.update(f"{london.resolve()}|{limit}|{warps}".encode())
    path = cache / f"exam-people-{digest.hexdigest()[:16]}.json" if cache else None
    if path is not None and path.is_file():
        raw = json.loads(path.read_text())
        return _from_json(raw["people"]), raw["skipped"]
    people, skipped = _measure_people(london, analyser, limit, warps)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"people": _to_json(people), "skipped": skipped}))
    return people, skipped


def _measure_people(
    london: Path, analyser: Any, limit: int | None, warps: bool
) -> tuple[list[Person], list[str]]:
    from tqdm import tqdm

    people, skipped = [], []
    neutral = sorted((london / "neutral").glob("*_03.jpg"))[: limit or None]
    for i, rest_path in enumerate(tqdm(neutral, desc="exam", mininterval=5)):
        subject = rest_path.stem.split("_")[0]
        smile_path = london / "smiling" / f"{subject}_08.jpg"
        try:
            rest_data = rest_path.read_bytes()
            rest = analyser.analyse(rest_data)
            smile = analyser.analyse(smile_path.read_bytes())
            again = analyser.analyse(reencode(rest_data))
        except (Rejected, OSError):
            skipped.append(subject)
            continue
        person = Person(
            subject, (rest.measures, rest.expression), (smile.measures, smile.expression),
            (again.measures, again.expression),
            {"rest": face_shape(rest.mesh), "smile": face_shape(smile.mesh)},
        )  # fmt: skip
        smile_rgb = np.asarray(Image.open(smile_path).convert("RGB"))
        # Meshes in the photos' own pixels (a large JPEG is analysed at a reduced scale).
        smile_mesh, rest_mesh = smile.mesh * smile.scale, rest.mesh * rest.scale
        side = i % 2  # alternate image sides across people
        weak = "right" if side == 0 else "left"  # image-left is the subject's right
        for s in STRENGTHS:
            img = failed_smile(smile_rgb, smile_mesh, rest_mesh, side, s)
            try:
                found = analyser.analyse(jpeg(img))
                person.failed_smiles[(s, weak)] = (found.measures, found.expression)
            except Rejected:
                pass
        for kind, change in CAMERA.items():
            try:
                found = analyser.analyse(jpeg(change(smile_rgb, smile_mesh)))
                person.shapes[f"smile:{kind}"] = face_shape(found.mesh)
            except Rejected:
                pass
        if warps:
            rest_rgb = np.asarray(Image.open(rest_path).convert("RGB"))
            # Bell's-type: only the strong side's brow rises.
            for kind, sides in (("both", (0, 1)), ("one", (1 - side,))):
                try:
                    img = raised_brows(rest_rgb, rest_mesh, sides)
                    found = analyser.analyse(jpeg(img))
                    assert found.measures is not None
                    person.brows[kind] = found.measures
                except Rejected:
                    pass
        people.append(person)
    return people, skipped


def people(london: Path, warps: bool, cache: Path, limit: int | None) -> list[Person]:
    from model import Analyser

    found, skipped = measure_people(london, Analyser(), limit, warps, cache)
    if skipped:
        print(f"skipped (a photo refused by the quality gate): {', '.join(skipped)}")
    return found
