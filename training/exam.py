"""Fit and evaluate the FAST exam (model/decision/exam.py) on London rest -> smile pairs.

Data, per person: the neutral photo (rest), the smiling photo (a healthy smile, same session), a
re-encoded copy of the neutral photo (75 % size, a few pixels cropped, JPEG 70: what measuring the
same face twice gives), and synthetic changes on top:
- a one-sided smile failure: the smiling photo with one side's lips and mouth corner warped back
  toward their resting position (strength 0.25 / 0.5 / 0.75 / 1.0 of the way);
- raised brows: the neutral photo with both brows, or one brow, warped up by `BROW_RAISE`;
- camera changes between rest and smile (`CAMERA`): a phone held nearer (the middle of the face
  magnified against its rim, as at 25 instead of 40 cm), tilted +-10 degrees, tipped back
  (keystone), other light, a hand over the forehead, and nearer + tilted + other light together.

Fitting (policy rates stated in `Policy`, the card says which data):
- `min_smile`: halfway between re-measurement noise (99th percentile of the larger corner
  movement between a photo and its re-encoded copy) and the smallest healthy smiles (1st
  percentile of the larger corner movement rest -> smile);
- the smile's symmetry: `movement_scale` is each movement difference's 95th percentile size on
  healthy pairs; `weights` and `bias` a logistic model (healthy pairs against smile failures of
  `FIT_STRENGTHS`, each class weighing the same); `clear_below` a quantile of the healthy pairs'
  own P(one side weak), `finding_at` beyond all of them (`Policy`);
- `min_brow_raise`: the largest brow change between a photo and its re-encoded copy;
- `same_person_max`: the largest face-shape distance between a person's rest photo and their own
  smile under every camera change; `shape_spread`: each shape measure's spread between people.
"""

from __future__ import annotations

import datetime as dt
import inspect
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from model.decision.confidence import Confidence, ExamCalibration
from model.decision.exam import MOVEMENT, ExamParams, decide, movement_gaps, shape_distance
from model.decision.exam import corner_movement as moved
from model.face.landmarks import IRIS_CENTRE
from model.measures.asymmetry import MM_PER_IPD, Measures, SideMeasures, face_shape
from model.measures.expression import Expression
from model.reasons import Rejected
from training import verdict_calibration as vc
from training.grader import CALIBRATION_FOLDS, CALIBRATION_SEED, _newton, pct, person_folds
from training.grader import share as shared
from training.grader_data import code_digest
from training.synth import MESH, MESH_ANCHORS
from training.synth.palsy import Pair, moves
from training.warp import bilinear

STRENGTHS = (0.25, 0.5, 0.75, 1.0)  # share of one side's smile taken away
FIT_STRENGTHS = (0.75, 1.0)  # the failures the smile model is fitted to find
BROW_RAISE = 0.12  # IPD (~7.5 mm): a clear but ordinary brow raise
# Upper-face points that a smile barely moves: the rest -> smile alignment.
STABLE = (33, 133, 263, 362, 168, 6, 197, 195, 5, 4, 1, 2, 10, 151, 9, 8)
L2 = 1e-3


@dataclass(frozen=True)
class Policy:
    clear_rate: float = 0.975  # share of healthy pairs told "no signs"
    # A weak lower face is an emergency: weak only beyond every healthy fitting pair. (Also
    # beyond a normal model's 1 in 1,000 of the healthy log-odds: the same 2 of 102 held-out
    # healthy people still went there, and 8 % fewer 75 % failures were found; 2026-12-06.)
    finding_rate: float = 1.0
    brow_fraction: float = 0.5  # stated rule, not calibrated (no healthy brow-raise photos)
    # Own pairs under camera changes kept as the same person: all of the fitting ones.
    same_rate: float = 1.0


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


def reencode(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as source:
        im = source.convert("RGB")
        w, h = im.size
        small = im.resize((w * 3 // 4, h * 3 // 4)).crop((10, 5, w * 3 // 4 - 3, h * 3 // 4 - 8))
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def _jpeg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def _similarity(src: np.ndarray, dst: np.ndarray) -> tuple[complex, complex]:
    """Least-squares z -> a z + b mapping src onto dst (points as complex numbers)."""
    s, d = src[:, 0] + 1j * src[:, 1], dst[:, 0] + 1j * dst[:, 1]
    sc, dc = s - s.mean(), d - d.mean()
    a = (np.conj(sc) @ dc) / (np.conj(sc) @ sc)
    return a, d.mean() - a * s.mean()


def failed_smile(rgb: np.ndarray, smile_mesh: np.ndarray, rest_mesh: np.ndarray, image_side: int,
                 strength: float) -> np.ndarray:  # fmt: skip
    """The smiling photo with one image side's mouth moved `strength` of the way back to rest."""
    a, b = _similarity(rest_mesh[list(STABLE), :2], smile_mesh[list(STABLE), :2])
    groups: dict[str, Pair] = {}
    moved: dict[str, Pair] = {}
    for name in ("mouth_corner", "lip"):
        sides = (smile_mesh[list(MESH[name][0]), :2], smile_mesh[list(MESH[name][1]), :2])
        z = (
            rest_mesh[list(MESH[name][image_side]), 0]
            + 1j * rest_mesh[list(MESH[name][image_side]), 1]
        )
        home = a * z + b
        back = sides[image_side] + strength * (
            np.stack([home.real, home.imag], axis=1) - sides[image_side]
        )
        groups[name] = sides
        moved[name] = (back, sides[1]) if image_side == 0 else (sides[0], back)
    ipd = float(np.linalg.norm(smile_mesh[IRIS_CENTRE[1], :2] - smile_mesh[IRIS_CENTRE[0], :2]))
    return moves(smile_mesh[list(MESH_ANCHORS), :2], groups, moved, ipd).warp(rgb)


def raised_brows(rgb: np.ndarray, mesh: np.ndarray, image_sides: Sequence[int]) -> np.ndarray:
    ipd = float(np.linalg.norm(mesh[IRIS_CENTRE[1], :2] - mesh[IRIS_CENTRE[0], :2]))
    sides = (mesh[list(MESH["brow"][0]), :2], mesh[list(MESH["brow"][1]), :2])
    up = np.array([0.0, BROW_RAISE * ipd])
    raised = (
        sides[0] - up if 0 in image_sides else sides[0],
        sides[1] - up if 1 in image_sides else sides[1],
    )
    pupils = mesh[list(IRIS_CENTRE), :2]
    return moves(mesh[list(MESH_ANCHORS), :2], {"brow": sides}, {"brow": raised}, ipd,
                 pupils).warp(rgb)  # fmt: skip


def nearer(rgb: np.ndarray, mesh: np.ndarray, gain: float = 0.06) -> np.ndarray:
    """The photo as from a phone held nearer (25 instead of 40 cm): the nose, ~3 cm in front of
    the eyes, grows ~6 % against the face's rim. A radial warp about the nose tip that fades
    over about an inter-pupil distance."""
    h, w = rgb.shape[:2]
    ipd = float(np.linalg.norm(mesh[IRIS_CENTRE[1], :2] - mesh[IRIS_CENTRE[0], :2]))
    cx, cy = mesh[1, :2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    dx, dy = xx - cx, yy - cy
    shrink = 1.0 / (1.0 + gain * np.exp(-(dx * dx + dy * dy) / (0.8 * ipd) ** 2))
    out = bilinear(rgb, cx + dx * shrink, cy + dy * shrink)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def tilted(rgb: np.ndarray, degrees: float) -> np.ndarray:
    image = Image.fromarray(rgb)
    return np.asarray(image.rotate(degrees, Image.Resampling.BILINEAR, fillcolor=(128, 128, 128)))


def relit(rgb: np.ndarray, strength: float = 0.5) -> np.ndarray:
    """Light from one side, a little dimmer overall."""
    ramp = np.linspace(1 - strength / 2, 1 + strength / 2, rgb.shape[1])[None, :, None]
    return np.clip(rgb * ramp * 0.9, 0, 255).astype(np.uint8)


def keystone(rgb: np.ndarray, tip: float = 0.08) -> np.ndarray:
    """The phone tipped back: the top of the picture narrower than the bottom."""
    h, w = rgb.shape[:2]
    corners = ((w * tip, 0), (w * (1 - tip), 0), (w, h), (0, h))
    rows = []
    for (x, y), (u, v) in zip(corners, ((0, 0), (w, 0), (w, h), (0, h)), strict=True):
        rows += [([x, y, 1, 0, 0, 0, -u * x, -u * y], u), ([0, 0, 0, x, y, 1, -v * x, -v * y], v)]
    a = np.array([r for r, _ in rows], float)
    coeffs = np.linalg.solve(a, np.array([b for _, b in rows], float))
    grey = (128, 128, 128)
    image = Image.fromarray(rgb).transform(
        (w, h),
        Image.Transform.PERSPECTIVE,
        tuple(coeffs),
        Image.Resampling.BILINEAR,
        fillcolor=grey,
    )
    return np.asarray(image)


def forehead_hand(rgb: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """A skin-coloured hand (or hair) over the forehead, down to just above the brows."""
    image = Image.fromarray(rgb.copy())
    ipd = float(np.linalg.norm(mesh[IRIS_CENTRE[1], :2] - mesh[IRIS_CENTRE[0], :2]))
    top, brow_y = mesh[10, :2], float(mesh[[70, 300], 1].min())
    box = (top[0] - 1.2 * ipd, top[1] - 0.6 * ipd, top[0] + 0.9 * ipd, brow_y - 0.15 * ipd)
    ImageDraw.Draw(image).ellipse(box, fill=(200, 150, 120))
    return np.asarray(image)


CAMERA: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "nearer": nearer,
    "tilt +10": lambda rgb, mesh: tilted(rgb, 10),
    "tilt -10": lambda rgb, mesh: tilted(rgb, -10),
    "other light": lambda rgb, mesh: relit(rgb),
    "tipped back": lambda rgb, mesh: keystone(rgb),
    "hand on forehead": forehead_hand,
    "nearer, tilted, other light": lambda rgb, mesh: relit(tilted(nearer(rgb, mesh), 8)),
}


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
    for fn in (reencode, failed_smile, raised_brows, _measure_people, _jpeg, nearer, tilted,
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
                found = analyser.analyse(_jpeg(img))
                person.failed_smiles[(s, weak)] = (found.measures, found.expression)
            except Rejected:
                pass
        for kind, change in CAMERA.items():
            try:
                found = analyser.analyse(_jpeg(change(smile_rgb, smile_mesh)))
                person.shapes[f"smile:{kind}"] = face_shape(found.mesh)
            except Rejected:
                pass
        if warps:
            rest_rgb = np.asarray(Image.open(rest_path).convert("RGB"))
            # Bell's-type: only the strong side's brow rises.
            for kind, sides in (("both", (0, 1)), ("one", (1 - side,))):
                try:
                    img = raised_brows(rest_rgb, rest_mesh, sides)
                    found = analyser.analyse(_jpeg(img))
                    assert found.measures is not None
                    person.brows[kind] = found.measures
                except Rejected:
                    pass
        people.append(person)
    return people, skipped


def _gaps(rest: Seen, moved_to: Seen) -> np.ndarray:
    return movement_gaps(rest[0], moved_to[0], rest[1], moved_to[1])


def _turned(gaps: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return (1.0 if gaps[0] >= 0 else -1.0) * gaps / scale


def smile_outcomes(params: ExamParams, people: Sequence[Person]) -> list[tuple[str, float, bool]]:
    """(pattern, raw P(one side weak), truly weak) of each person's healthy pair and smile
    failures of `FIT_STRENGTHS` that the exam decides (no retake asked)."""
    out: list[tuple[str, float, bool]] = []
    for p in people:
        tried = [(p.smile, False)] + [
            (m, True) for (st, _), m in p.failed_smiles.items() if st in FIT_STRENGTHS
        ]
        for moved_to, weak in tried:
            reason, _, pattern, *_, p_weak = decide(
                params, p.rest[0], moved_to[0], None, *_exprs(p.rest, moved_to)
            )
            if reason is None and pattern is not None and p_weak is not None:
                out.append((pattern, p_weak, weak))
    return out


def _calibration(people: Sequence[Person], version: str, policy: Policy, clear: float,
                 finding: float) -> ExamCalibration:  # fmt: skip
    """Fitted on the out-of-fold smiles of an inner person-grouped cross-validation."""
    oof: list[tuple[str, float, bool]] = []
    for held in person_folds([p.subject for p in people], CALIBRATION_FOLDS, CALIBRATION_SEED):
        inner = fit([p for p in people if p.subject not in held], version, policy,
                    calibrate=False)  # fmt: skip
        oof += smile_outcomes(inner, [p for p in people if p.subject in held])
    calibration = vc.fit_exam([o[1] for o in oof], [o[2] for o in oof], clear, finding)
    calibration.fitted["folds"] = CALIBRATION_FOLDS
    return calibration


def fit(people: Sequence[Person], version: str, policy: Policy = Policy(),
        record: dict[str, Any] | None = None, calibrate: bool = True) -> ExamParams:  # fmt: skip
    """Fit on `people`; `calibrate`: the calibration from an inner cross-validation (else the
    raw P(weak), prior-shifted)."""

    def larger(a: Measures, b: Measures) -> float:
        return max(moved(a.left, b.left), moved(a.right, b.right))

    noise = [larger(p.rest[0], p.again[0]) for p in people]
    smiles = [larger(p.rest[0], p.smile[0]) for p in people]
    healthy = np.stack([_gaps(p.rest, p.smile) for p in people])
    scale = np.maximum(np.percentile(np.abs(healthy), 95, axis=0), 1e-6)
    weak = [_gaps(p.rest, m) for p in people for (st, _), m in p.failed_smiles.items()
            if st in FIT_STRENGTHS]  # fmt: skip
    x = np.stack([_turned(g, scale) for g in (*healthy, *weak)])
    y = np.array([[1.0, 0.0]] * len(healthy) + [[0.0, 1.0]] * len(weak))
    w = np.array([0.5 / len(healthy)] * len(healthy) + [0.5 / len(weak)] * len(weak)) * len(x)
    theta = _newton(x, y, w, L2)
    # Two-class softmax = a logistic on the difference of the two rows.
    weights, bias = theta[1, :-1] - theta[0, :-1], float(theta[1, -1] - theta[0, -1])
    p_weak = 1.0 / (1.0 + np.exp(-(x[: len(healthy)] @ weights + bias)))
    brow_noise = [
        max(abs(p.again[0].left.brow - p.rest[0].left.brow),
            abs(p.again[0].right.brow - p.rest[0].right.brow))
        for p in people
    ]  # fmt: skip
    rests = np.stack([p.shapes["rest"] for p in people])
    spread = rests.std(axis=0)
    draft = ExamParams(version, 0.0, [1.0] * len(MOVEMENT), [0.0] * len(MOVEMENT), 0.0, 0.0, 1.0,
                       0.0, policy.brow_fraction, spread.tolist(), 0.0)  # fmt: skip
    clear = float(np.quantile(p_weak, policy.clear_rate))
    finding = max(clear, float(np.quantile(p_weak, policy.finding_rate)))
    same = [shape_distance(p.shapes["rest"], shape, draft)
            for p in people for k, shape in p.shapes.items() if k.startswith("smile")]  # fmt: skip
    params = ExamParams(
        version=version,
        min_smile=float((np.percentile(noise, 99) + np.percentile(smiles, 1)) / 2),
        movement_scale=scale.tolist(),
        weights=weights.tolist(),
        bias=bias,
        clear_below=clear,
        finding_at=finding,
        min_brow_raise=float(max(brow_noise)),
        brow_fraction=policy.brow_fraction,
        shape_spread=spread.tolist(),
        same_person_max=float(np.quantile(same, policy.same_rate)),
        fitted={
            "date": dt.date.today().isoformat(),
            "data": "Face Research Lab London Set (DeBruine & Jones 2017, CC BY 4.0): each "
            "person's neutral photo (rest), smiling photo (same session), a re-encoded copy "
            "of the neutral photo, the smiling photo with one side's smile warped "
            f"{'/'.join(f'{s:.0%}' for s in FIT_STRENGTHS)} of the way back to rest, and the "
            f"smiling photo under {len(CAMERA)} simulated camera changes",
            "people": len(people),
            "movement": list(MOVEMENT),
            "policy": policy.__dict__,
            "l2": L2,
            "brow_rule": "stated, not calibrated on real brow raises",
            **(record or {}),
        },
        calibration=ExamCalibration.uncalibrated(clear, finding),
    )
    if not calibrate:
        return params
    return replace(params, calibration=_calibration(people, version, policy, clear, finding))


def evaluate(people: Sequence[Person], k: int = 5) -> dict[str, Any]:
    """Person-grouped cross-validation: everything fitted without the held-out people."""
    healthy: list[str | None] = []
    found: dict[float, list[bool]] = {s: [] for s in STRENGTHS}
    told_none: dict[float, list[bool]] = {s: [] for s in STRENGTHS}
    side_right: dict[float, list[bool]] = {s: [] for s in STRENGTHS}
    kept: dict[str, list[bool]] = {}
    refused_other: list[bool] = []
    pattern_checks: dict[str, list[str | None]] = {"stroke_type": [], "bells_type": []}
    no_smile_refused = 0
    confidences: list[Confidence] = []
    truly_weak: list[bool] = []
    for held in person_folds([p.subject for p in people], k, seed=7):
        params = fit([p for p in people if p.subject not in held], "cv")
        test = [p for p in people if p.subject in held]
        assert params.calibration is not None
        for told, p_weak, is_weak in smile_outcomes(params, test):
            confidences.append(params.calibration.confidence(told, p_weak))
            truly_weak.append(is_weak)
        for p in test:
            reason, _, pattern, *_ = decide(
                params, p.rest[0], p.smile[0], None, *_exprs(p.rest, p.smile)
            )
            healthy.append(pattern if reason is None else reason.value)
            reason, *_ = decide(params, p.rest[0], p.rest[0], None, p.rest[1], p.rest[1])
            no_smile_refused += reason is not None and reason.value == "no_smile"
            for key, shape in p.shapes.items():
                if key.startswith("smile"):
                    kind = key.partition(":")[2] or "none"
                    ok = shape_distance(p.shapes["rest"], shape, params) <= params.same_person_max
                    kept.setdefault(kind, []).append(ok)
            for (s, weak), m in p.failed_smiles.items():
                reason, _, pattern, side, *_ = decide(
                    params, p.rest[0], m[0], None, *_exprs(p.rest, m)
                )
                flagged = reason is None and pattern == "lower_face"
                found[s].append(flagged)
                told_none[s].append(reason is None and pattern == "none")
                if flagged:
                    side_right[s].append(side == weak)
            full = p.failed_smiles.get((1.0, "right")) or p.failed_smiles.get((1.0, "left"))
            if full is not None:
                for kind, want in (("both", "stroke_type"), ("one", "bells_type")):
                    if kind in p.brows:
                        reason, _, pattern, *_ = decide(params, p.rest[0], full[0], p.brows[kind],
                                                        *_exprs(p.rest, full))  # fmt: skip
                        pattern_checks[want].append(pattern if reason is None else reason.value)
        others = [q for q in people if q.subject not in held]
        for p in test:
            for q in others[:10]:
                refused_other.append(
                    shape_distance(p.shapes["rest"], q.shapes["smile"], params)
                    > params.same_person_max
                )
    n = len(healthy)

    def share(values: list[bool]) -> float | None:
        return shared(sum(values), len(values))

    return {
        "people": len(people),
        "folds": k,
        "healthy_pairs": {
            "pairs": n,
            "no_signs": share([h == "none" for h in healthy]),
            "unclear": share([h == "unclear" for h in healthy]),
            "finding": share([h == "lower_face" for h in healthy]),
            "asked_to_smile_again": share([h == "no_smile" for h in healthy]),
            "emergencies": sum(h == "lower_face" for h in healthy),
        },
        "identical_smile_refused": round(no_smile_refused / n, 4),
        "same_person_kept": {kind: share(v) for kind, v in kept.items()},
        "same_person_kept_all": share([x for v in kept.values() for x in v]),
        "other_person_refused": share(refused_other),
        "smile_failure": {
            str(s): {
                "photos": len(found[s]),
                "found": share(found[s]),
                "told_no_signs": share(told_none[s]),
                "side_right": share(side_right[s]),
            }
            for s in STRENGTHS
        },
        "patterns_complete_failure": {
            want: {"photos": len(got), "right_pattern": share([g == want for g in got])}
            for want, got in pattern_checks.items()
        },
        "mm_per_ipd": MM_PER_IPD,
        "calibration": vc.exam_report(confidences, truly_weak),
    }


def _exprs(rest: Seen, moved_to: Seen) -> tuple[Expression | None, Expression | None]:
    return rest[1], moved_to[1]


def write(params: ExamParams, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(params.to_json() + "\n")


def report_json(report: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "exam_evaluation.json").write_text(json.dumps(report, indent=1) + "\n")


def _calibration_text(cal: dict[str, Any]) -> str:
    from training.grader_commands import reliability_table

    a = cal["answer"]
    table = reliability_table(a["reliability"]).replace("top-class probability", "confidence")
    table = table.replace("| photos |", "| pairs |")
    return f"""## How sure
The reply says how sure the exam is of its pattern: the calibrated probability that "no signs"
(pattern none) or "one side weak" (a weak-side pattern) is right; "unclear" is always "not
sure". P(one side weak) is mapped by a Platt map fitted on the out-of-fold P of an inner
person-grouped cross-validation (healthy pairs and the {"/".join(f"{s:.0%}" for s in FIT_STRENGTHS)}
smile failures weighing the same), shifted to the share of weak smiles at which the even bet
falls midway between the two thresholds ({cal["prior_weak"]:.1%} on average over these folds;
the shipped value is `calibration.prior_weak` in `exam.json`). The brow step's
Bell's / stroke distinction is a stated rule and has no probability of its own.

Held-out pairs ({cal["pairs"]}: healthy and those failures, each fold's calibration fitted
without them), weighted to that share: expected calibration error **{a["ece"]:.3f}** (at even
odds {a["ece_even_odds"]:.3f}, on the data's own mix {a["ece_data_mix"]:.3f}); few pairs, so
each bin is coarse.

{table}
"""


def card_text(report: dict[str, Any]) -> str:
    """The exam's card, from the evaluation report alone."""
    h = report["healthy_pairs"]
    rows = "\n".join(
        f"| {float(s):.0%} | {f['photos']} | {pct(f['found'])} | {pct(f['told_no_signs'])} "
        f"| {pct(f['side_right'])} |"
        for s, f in report["smile_failure"].items()
    )
    kept = "\n".join(
        f"| {kind} | {pct(share)} |" for kind, share in report["same_person_kept"].items()
    )
    pat = report["patterns_complete_failure"]
    return f"""# FAST exam card (generated by `palsy-train evaluate-exam`; do not edit by hand)

The exam (`model/decision/exam.py`, parameters `model/assets/exam.json`) compares a resting
photo, a big smile and raised brows of one person. **Not clinically validated**: no real palsy
photo and no real brow raise was used to fit or test it.

## Data
Face Research Lab London Set (DeBruine & Jones 2017, CC BY 4.0): {report["people"]} people, each
with a neutral and a smiling photo from one session, and a re-encoded copy of the neutral photo
(re-measurement noise). Smile failures, brow raises and camera changes are synthetic
(`training/exam.py`); the warps move the content around each moved point by its whole
displacement (`tests/training/test_training_warp.py`).

## How the smile is read
Per side: how far the mouth corner rose (the face mesh) and how much each paired expression
score changed from rest to smile (MediaPipe's blendshape model: the smile itself, the stretch,
the dimple, the cheek, the press, the frown, the upper lip, the lower lip, the eye squint, the
nose). A logistic model on their left-right differences (each turned by the side whose corner
rose less, and scaled by its healthy spread), fitted on healthy pairs against smiles with 75 %
and 100 % of one side's movement taken away, gives P(one side weak). No signs below the
97.5th percentile of the healthy pairs' own P; weak (an emergency) only beyond every healthy
fitting pair; unclear between.

## Person-grouped cross-validation ({report["folds"]} folds)
Healthy rest -> smile pairs of held-out people ({h["pairs"]}): no signs {pct(h["no_signs"])},
unclear {pct(h["unclear"])}, one-sided weakness (an emergency) {pct(h["finding"])}
({h["emergencies"]} of {h["pairs"]}), asked to smile again {pct(h["asked_to_smile_again"])}.
A "smile" identical to the resting photo was refused as "no smile made" in
{pct(report["identical_smile_refused"])}.

One side's smile warped back toward rest (share of the movement taken away):

| strength | photos | found (one side weak) | told no signs | side right |
|---|---|---|---|---|
{rows}

Complete one-sided smile failure with raised brows: both brows up -> stroke-type
{pct(pat["stroke_type"]["right_pattern"])}; only the other side's brow up -> Bell's-type
{pct(pat["bells_type"]["right_pattern"])}.

{_calibration_text(report["calibration"])}
## Same person?
Face proportions from the mesh (eye corners, nose; `model.measures.asymmetry.SHAPE_PAIRS`),
each over its spread between people; the limit is the 99th percentile of a person's own rest ->
smile distances under simulated camera changes, so a phone held nearer, tilted or in other
light, or a hand on the forehead, is not taken for another person. Held-out people, own pairs
kept as the same person ({pct(report["same_person_kept_all"])} in all):

| camera change for the smile photo | kept |
|---|---|
{kept}

Another person's smile refused in {pct(report["other_person_refused"])}: proportions from a
mesh trained on average faces tell people apart poorly, so the check only stops clearly
different faces (a face-recognition model would do better; not yet adopted, see README).

## Why not more warped failures are found
Healthy smiles are often lopsided (many lean to one side): the healthy pairs' own left-right
differences overlap a one-sided failure of half a smile, and the exam calls a side weak only
beyond every healthy fitting pair, because that is an emergency. The face mesh also pulls a
weak corner toward the strong side's position. The synthetic failures move only the mouth
corner and lips back to rest; a real weak side also leaves the cheek and the eye unmoved, which
the expression scores read. The brow rule (a brow rising less than half as far as the other is
weak) is stated, not calibrated.
"""


def _people(london: Path, warps: bool, cache: Path, limit: int | None) -> list[Person]:
    from model.pipeline import Analyser

    people, skipped = measure_people(london, Analyser(), limit, warps, cache)
    if skipped:
        print(f"skipped (a photo refused by the quality gate): {', '.join(skipped)}")
    return people


def fit_command(
    london: Path, out: Path, version: str, cache: Path, limit: int | None = None
) -> ExamParams:
    """`palsy-train fit-exam`: fit on every London pair and write the parameters."""
    record = {"command": f"palsy-train fit-exam --version {version}"}
    params = fit(_people(london, True, cache, limit), version, record=record)
    write(params, out)
    return params


def evaluate_command(
    london: Path, out: Path, folds: int, cache: Path, limit: int | None = None,
    card: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    """`palsy-train evaluate-exam`: person-grouped cross-validation, report JSON and the card."""
    report = evaluate(_people(london, True, cache, limit), folds)
    report_json(report, out)
    if card is not None:
        card.write_text(card_text(report))
    return report
