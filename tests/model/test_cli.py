"""palsy-check: JSON schema, readable report in the bot's own words, exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from model.__main__ import disclaimer, main, notice, texts
from model.labels import NORMAL, PAPER_CLASSES
from model.words import Numbers, plain
from tests.support.model_images import jpeg, london
from tests.support.onnx_fixtures import build_passthrough_grader, build_tiny_classifier

REPO_ROOT = Path(__file__).resolve().parents[2]
EN = texts("en", Numbers())
JSON_KEYS = {
    "path",
    "status",
    "reason",
    "label",
    "region",
    "severity",
    "probabilities",
    "tier",
    "asymmetry",
    "face",
    "timings_ms",
    "model",
    "confidence",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, london_neutral: list[Path]) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    face = root / "face.jpg"
    face.write_bytes(jpeg(london(london_neutral[9], 720)))
    junk = root / "notes.jpg"
    junk.write_text("not a photo")
    return {
        "grader": build_passthrough_grader(root / "g.json"),
        "face": face,
        "junk": junk,
        "model": build_tiny_classifier(root / "m.onnx", bias={"moderate_eye": 6.0}),
        "validated": build_tiny_classifier(
            root / "v.onnx", bias={"normal": 6.0}, clinical_validation="prospective study, n=400"
        ),
    }


def _models(files: dict[str, Path], model: str = "model") -> list[str]:
    return ["--model", str(files[model]), "--grader", str(files["grader"])]


def test_cnn_runs_in_shadow_only_when_asked(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The shipped grader gives the CNN no weight: --cnn shows its softmax, the verdict stays."""
    lines = []
    for extra in ([], ["--cnn"]):
        assert main(["--json", *extra, str(files["face"])]) == 0
        lines.append(json.loads(capsys.readouterr().out.strip()))
    plain, shadow = lines
    assert plain["cnn_probabilities"] == {} and "classify" not in plain["timings_ms"]
    assert len(shadow["cnn_probabilities"]) >= 2 and "classify" in shadow["timings_ms"]
    assert (plain["status"], plain["tier"], plain["finding"]) == (
        shadow["status"],
        shadow["tier"],
        shadow["finding"],
    )


def test_json_lines(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--json", *_models(files), str(files["face"]), str(files["junk"])])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    ok, bad = (json.loads(line) for line in lines)
    assert JSON_KEYS <= set(ok) and JSON_KEYS <= set(bad)
    assert ok["path"] == str(files["face"])
    assert (ok["status"], ok["label"], ok["region"], ok["severity"], ok["tier"]) == (
        "ok",
        "moderate_eye",
        "eye",
        "moderate",
        "urgent",
    )
    assert set(ok["probabilities"]) == {*PAPER_CLASSES, NORMAL}
    assert {"x", "y", "width", "height"} <= set(ok["face"])
    assert {"decode", "detect", "landmarks", "quality", "measure", "classify", "total"} <= set(
        ok["timings_ms"]
    )
    assert set(ok["model"]) >= {"name", "version", "sha256"}
    assert len(ok["model"]["sha256"]) == 64
    assert isinstance(ok["asymmetry"]["mouth"], float)
    assert (bad["status"], bad["reason"], bad["tier"]) == ("rejected", "not_image", "retake")
    assert ok["notice"] == notice(EN) and ok["disclaimer"] == disclaimer(EN)
    # Calibrated probabilities with the finding's class on top, and how sure, agreeing with it.
    assert next(iter(ok["probabilities"])) == ok["label"] == "moderate_eye"
    assert ok["finding"]["decision"] == "finding"
    conf = ok["confidence"]
    assert conf["about"] == "signs" and conf["value"] == pytest.approx(
        1 - ok["probabilities"][NORMAL], abs=1e-3
    )
    assert conf["in_10"] == min(9, round(10 * conf["value"])) and conf["band"] == "very_sure"
    assert bad["confidence"] is None and bad["probabilities"] == {}


def test_json_confidence_agrees_with_every_decision(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No signs: `normal` on top, about no signs; unclear: normal and the torn class on top,
    not sure."""
    for bias, decision in (({NORMAL: 6.0}, "no_signs"), (None, "unclear")):
        model = build_tiny_classifier(tmp_path / f"{decision}.onnx", bias=bias)
        args = ["--json", "--model", str(model), "--grader", str(files["grader"])]
        assert main([*args, str(files["face"])]) == 0
        line = json.loads(capsys.readouterr().out)
        assert line["finding"]["decision"] == decision
        top = list(line["probabilities"])
        conf = line["confidence"]
        if decision == "no_signs":
            assert top[0] == NORMAL and conf["about"] == "no_signs" and conf["value"] > 0.5
        else:
            assert set(top[:2]) == {NORMAL, line["finding"]["torn"]}
            assert conf["band"] == "not_sure" and conf["about"] == "unclear"


def test_readable_report_says_unvalidated_and_disclaims(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*_models(files), str(files["face"])]) == 0
    out = capsys.readouterr().out
    assert notice(EN) in out and disclaimer(EN) in out
    # The bot's own words: what to do first, the finding, its side by its place in the photo.
    said, _, details = out.partition("details:")
    assert plain(EN("tier.urgent")) in said and plain(EN("result.finding")) in said
    assert EN("side.left") in said or EN("side.right") in said
    assert "mm" not in said and "moderate finding, eye region" in details  # sizes in details
    assert "low_confidence" not in out and "moderate_eye" not in out  # words, not codes
    # One plain line of how sure, in words with the number.
    sure = [line for line in out.splitlines() if "how sure:" in line]
    assert len(sure) == 1
    assert sure[0].strip() == "how sure:  very sure, 9 in 10 that there are signs"


def test_the_emergency_numbers_and_language_are_the_bots_settings(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PALSY_EMERGENCY_NUMBER", "911")
    monkeypatch.setenv("PALSY_AMBULANCE_NUMBER", "999")
    assert main([*_models(files), "--language", "hi", str(files["junk"])]) == 0
    out = capsys.readouterr().out
    hindi = texts("hi", Numbers("911", "999"))
    assert plain(hindi("emergency.footer")) in out and "112" not in out
    monkeypatch.setenv("PALSY_EMERGENCY_NUMBER", "call us")
    with pytest.raises(SystemExit) as info:
        main([*_models(files), str(files["junk"])])
    assert info.value.code == 2
    assert "PALSY_EMERGENCY_NUMBER: not a phone number" in capsys.readouterr().err


def test_validated_model_has_no_notice(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*_models(files, "validated"), str(files["face"])]) == 0
    out = capsys.readouterr().out
    assert notice(EN) not in out and disclaimer(EN) in out


def test_missing_model_exits_nonzero_with_one_line(
    tmp_path: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--model", str(tmp_path / "gone.onnx"), str(files["face"])]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not found" in err


def test_unreadable_image_is_a_usage_error_but_others_still_run(
    tmp_path: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--json", *_models(files), str(tmp_path / "x.jpg"), str(files["face"])])
    assert code == 2
    captured = capsys.readouterr()
    assert "cannot read" in captured.err
    missing, ok = (json.loads(line) for line in captured.out.splitlines())
    assert (missing["status"], missing["path"]) == ("error", str(tmp_path / "x.jpg"))
    assert "cannot read" in missing["reason"] and ok["status"] == "ok"


def test_usage_error() -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def test_module_entry_point(files: dict[str, Path]) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "model",
            "--json",
            "--model",
            str(files["model"]),
            str(files["junk"]),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["reason"] == "not_image"
    assert "Traceback" not in proc.stderr
