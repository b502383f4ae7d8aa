"""Reply texts built from screening results: order, bars, sides, notices, both languages."""

from __future__ import annotations

import pytest

from bot.config import LANGUAGES
from bot.i18n import Texts
from bot.render import asks_onset, bar, onset_answer_text, result_text
from model.grader import Finding, Observation
from model.reasons import Reason
from model.result import ModelInfo, ScreeningResult
from model.triage import Tier, triage

UNVALIDATED = ModelInfo("tiny", "test", "0" * 64, clinically_validated=False)
VALIDATED = ModelInfo("tiny", "test", "0" * 64, clinically_validated=True)


def texts(language: str = "en") -> Texts:
    return Texts(language, emergency="112", ambulance="108", retention_days=30, max_mb=20)


def finding(label: str, top: float, model: ModelInfo = UNVALIDATED, **asym: float | str):
    rest = (1 - top) / 2
    probabilities = {label: top, "normal": rest, "mild_eye": rest}
    severity, _, region = label.partition("_")
    return ScreeningResult(
        status="ok",
        tier=triage(label),
        model=model,
        label=label,
        region=region or None,
        severity=severity if region else None,
        probabilities=probabilities,
        asymmetry=dict(asym),
    )


def test_bar_is_proportional_and_fixed_width() -> None:
    assert bar(0.0) == "░" * 10
    assert bar(0.52) == "█" * 5 + "░" * 5
    assert bar(1.0) == "█" * 10
    assert bar(7.0) == "█" * 10  # clamped


def test_emergency_puts_number_then_befast_first() -> None:
    text = result_text(texts(), finding("severe_mouth", 0.9))
    lines = text.splitlines()
    assert "112" in lines[0] and "108" in lines[0]
    befast = text.index("BE-FAST")
    assert befast < text.index("Possible signs")
    for word in ("alance", "yes", "ace", "rms", "peech", "ime"):
        assert word in text[befast:]


def test_confidences_best_first_and_region_severity_in_words() -> None:
    text = result_text(texts(), finding("moderate_eye", 0.7))
    assert "moderate, around the eye" in text
    bars = [line for line in text.splitlines() if line.startswith("<code>")]
    assert len(bars) == 3
    assert "70%" in bars[0] and "moderate, eye" in bars[0]
    assert "doctor today" in text  # URGENT advice


@pytest.mark.parametrize("language", LANGUAGES)
def test_asymmetry_names_the_persons_side_and_size_in_mm(language: str) -> None:
    t = texts(language)
    result = finding("mild_mouth", 0.8)
    seen = Observation("mouth", "left", 0.08)  # 0.08 IPD at 63 mm: 5 mm
    result.finding = Finding("finding", 0.99, "mouth", "mild", "left", (seen,))
    text = result_text(t, result)
    assert t("asym.mouth.left", mm=5) in text and "5" in t("asym.mouth.left", mm=5)
    result.finding = Finding("finding", 0.99, "mouth", "mild", "left", ())
    assert t("asym.mouth.left", mm=5) not in result_text(t, result)


def test_validation_notice_follows_model_metadata_and_disclaimer_is_always_there() -> None:
    t = texts()
    assert t("not_validated") in result_text(t, finding("normal", 0.9))
    assert t("not_validated") not in result_text(t, finding("normal", 0.9, VALIDATED))
    for result in (finding("normal", 0.9), finding("severe_eye", 0.9)):
        assert t("disclaimer") in result_text(t, result)


@pytest.mark.parametrize("reason", list(Reason))
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_rejection_has_its_own_tip_and_the_emergency_line(
    reason: Reason, language: str
) -> None:
    t = texts(language)
    result = ScreeningResult(status="rejected", tier=Tier.RETAKE, reason=reason)
    text = result_text(t, result)
    assert t(f"reject.{reason.value}") in text
    assert t("emergency.footer") in text and "112" in text


def test_unclear_grade_is_a_retake() -> None:
    result = ScreeningResult(status="rejected", tier=Tier.RETAKE, reason=Reason.LOW_CONFIDENCE)
    assert texts()("reject.low_confidence") in result_text(texts(), result)
    assert not asks_onset(result)


def test_onset_question_after_findings_only() -> None:
    assert asks_onset(finding("mild_eye", 0.8))
    assert not asks_onset(finding("normal", 0.9))


def test_sudden_onset_answer_leads_with_the_number() -> None:
    t = texts("hi")
    text = onset_answer_text(t, sudden=True)
    assert text.startswith(t("emergency.first"))
    assert "BE-FAST" in text
    assert "BE-FAST" not in onset_answer_text(t, sudden=False)


def test_placeholders_are_html_escaped() -> None:
    t = Texts("en", emergency="<b>1</b>", ambulance="&", retention_days=1, max_mb=1)
    assert "&lt;b&gt;1&lt;/b&gt;" in t("emergency.footer")
