"""Reply texts built from results: action first, one finding in words named by its place in the
photo, no millimetres, short emergencies with nothing else on them, notices where they belong,
in every language."""

from __future__ import annotations

import html
import re

import pytest

from bot.handlers.commands import help_text, start_text
from model.decision.confidence import Confidence
from model.decision.exam import ExamResult, SideMovement
from model.decision.grader import Finding, Observation
from model.decision.onset import TABLE, OnsetAdvice
from model.decision.triage import Tier, triage
from model.labels import NORMAL, PAPER_CLASSES
from model.reasons import Reason
from model.result import ModelInfo, ScreeningResult
from model.words import LANGUAGES, Texts, Who, catalog
from model.words.render import (
    details_text,
    distress_text,
    exam_text,
    onset_answer_text,
    onset_when_text,
    rejection,
    result_text,
)
from tests.support.fake_bot_api import html_problem

UNVALIDATED = ModelInfo("tiny", "test", "0" * 64, clinically_validated=False)
VALIDATED = ModelInfo("tiny", "test", "0" * 64, clinically_validated=True)
CLASSES = (NORMAL, *PAPER_CLASSES)
# One phone screen at ~36 characters a line.
START_MAX = 650
REPLY_MAX = 700
# The limits for an emergency reply, and for /help and /privacy (Hindi takes about a
# fifth more words for the same sentences).
EMERGENCY_WORDS = {"en": 50, "hi": 60}
HELP_WORDS = {"en": 90, "hi": 110}
# A mouth droop on the subject's left (the right of the photo), far outside the healthy range,
# with the brow on the same side outside it too: the longest finding a reply can tell.
MOUTH = Observation("mouth", "left", 0.2, 6.0)
BROW_SAME_SIDE = Observation("brow", "left", 0.06, 1.6)
BROW_OTHER_SIDE = Observation("brow", "right", 0.05, 1.3)


def texts(language: str = "en", who: Who | None = None) -> Texts:
    return Texts(language, who, emergency="112", ambulance="108", retention_days=30, max_mb=20)


def finding(
    label: str,
    model: ModelInfo = UNVALIDATED,
    seen: tuple[Observation, ...] = (MOUTH,),
    decided: Observation | None = MOUTH,
) -> ScreeningResult:
    severity, _, region = label.partition("_")
    if label == NORMAL:
        graded = Finding("no_signs", 0.01, observations=seen)
    else:
        graded = Finding("finding", 0.99, region, severity, "left", seen, decided)  # type: ignore[arg-type]
    return ScreeningResult(
        confidence=Confidence.of(0.83 if label == NORMAL else 0.12, graded.decision, 0.5),
        status="ok",
        finding=graded,
        tier=triage(label),
        model=model,
        label=label,
        region=region or None,
        severity=severity if region else None,
    )


def unclear(model: ModelInfo = UNVALIDATED) -> ScreeningResult:
    sure = Confidence.of(0.55, "unclear", 0.5)
    return ScreeningResult("rejected", Tier.RETAKE, model, Reason.LOW_CONFIDENCE, confidence=sure)


def visible(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def words(html: str) -> int:
    """Words a person reads: tokens with a letter or a digit (an emoji is not a word)."""
    return sum(1 for token in visible(html).split() if re.search(r"\w", token))


def exam(pattern: str, tier: Tier, brows: bool = True) -> ExamResult:
    weak, strong = SideMovement(0.04, 0.03, 0.1 if brows else None), SideMovement(0.2, 0.15, 0.1)
    if not brows:
        strong = SideMovement(0.2, 0.15)
    side = None if pattern == "none" else "right"
    sure = Confidence("no_signs", 0.9, 0.5) if side is None else Confidence("signs", 0.76, 0.5)
    return ExamResult("ok", tier, {}, pattern=pattern, weak_side=side,  # type: ignore[arg-type]
                      left=strong, right=weak, exam_version="test", confidence=sure)  # fmt: skip


def how_sure(t: Texts, confidence: Confidence) -> str:
    return t("sure.line", how=t(f"sure.{confidence.band}"), n=confidence.in_10)


def emergency_replies(t: Texts) -> dict[str, str]:
    """Every reply that tells an emergency, at its longest."""
    replies = {
        "photo": result_text(t, finding("severe_mouth", seen=(MOUTH, BROW_SAME_SIDE))),
        "distress": distress_text(t),
    }
    for row in TABLE.values():
        for advice in row:
            if advice.tier is Tier.EMERGENCY:
                replies[f"onset {advice.said}"] = onset_answer_text(t, advice, UNVALIDATED)
    for pattern, brows in (("stroke_type", True), ("lower_face", False), ("bells_type", True),
                           ("none", True)):  # fmt: skip
        replies[f"exam {pattern}"] = exam_text(t, exam(pattern, Tier.EMERGENCY, brows), None)
    return replies


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_emergency_is_the_number_first_short_and_carries_nothing_else(language: str) -> None:
    t = texts(language)
    for name, text in emergency_replies(t).items():
        assert text.splitlines()[0] == t("emergency.first"), name
        assert "112" in text.splitlines()[0] and "108" in text.splitlines()[0]
        assert words(text) <= EMERGENCY_WORDS[language], (name, words(text))
        # The notice that could make a person doubt the one instruction that matters is not here.
        assert t("not_validated") not in text, name
    text = result_text(t, finding("severe_mouth"))
    order = [t("tier.emergency"), t("seen.mouth", side=t("side.right"), how=t("size.severe"))]
    order += [t("befast"), t("disclaimer")]
    assert [text.index(part) for part in order] == sorted(text.index(part) for part in order)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("label", "tier"), [("moderate_eye", "urgent"), ("mild_mouth", "soon")])
def test_other_findings_lead_with_what_to_do_and_end_with_the_notices(
    language: str, label: str, tier: str
) -> None:
    t = texts(language)
    text = result_text(t, finding(label))
    assert text.splitlines()[0] == t(f"tier.{tier}")
    assert text.endswith(t("not_validated") + "\n" + t("disclaimer"))
    assert t("not_validated") not in result_text(t, finding(label, VALIDATED))


@pytest.mark.parametrize("language", LANGUAGES)
def test_one_finding_in_words_named_by_its_place_in_the_photo(language: str) -> None:
    t = texts(language)
    for label, how in (("mild_mouth", "mild"), ("moderate_mouth", "moderate")):
        text = result_text(t, finding(label, seen=(MOUTH, BROW_OTHER_SIDE)))
        # The subject's left is the right of the photo; the size in words, not in mm.
        assert t("seen.mouth", side=t("side.right"), how=t(f"size.{how}")) in text
        # The brow outside the range on the other side is not named (it would confuse).
        assert t("seen.brow", side=t("side.left"), how=t(f"size.{how}")) not in text
        assert t("seen.also.brow") not in text
        assert not re.search(r"\d\s*(mm|मिमी)", text)
    beside = result_text(t, finding("mild_mouth", seen=(MOUTH, BROW_SAME_SIDE)))
    assert t("seen.also.brow") in beside


@pytest.mark.parametrize("language", LANGUAGES)
def test_your_and_their(language: str) -> None:
    result = finding("moderate_mouth")
    own, theirs = (result_text(texts(language, who), result) for who in (Who.SELF, Who.OTHER))
    assert texts(language)("result.finding@self") in own
    assert texts(language)("result.finding@other") in theirs
    either = result_text(texts(language), result)
    assert texts(language)("result.finding") in either


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_signs_offers_the_closer_check_when_there_is_one(language: str) -> None:
    t = texts(language)
    even = finding("normal", seen=())
    text = result_text(t, even, closer=True)
    assert text.startswith(t("result.no_signs") + "\n" + t("asym.even"))
    assert t("tier.no_signs") in text and t("exam.still_worried") in text
    assert t("exam.still_worried") not in result_text(t, even)  # no button, no promise of one
    assert t("asym.even") not in result_text(t, finding("normal", seen=(MOUTH,)))


@pytest.mark.parametrize("language", LANGUAGES)
def test_unclear_says_checked_and_offers_the_face_test(language: str) -> None:
    t = texts(language)
    text = result_text(t, unclear(), closer=True)
    assert text.startswith(t("unclear.title")) and t("reject.title") not in text  # it was checked
    assert t("exam.more") in text and t("emergency.footer") in text
    assert t("not_validated") in text and t("disclaimer") in text
    without = result_text(t, unclear(VALIDATED))
    assert t("reject.low_confidence") in without and t("not_validated") not in without


@pytest.mark.parametrize("reason", [r for r in Reason if r is not Reason.LOW_CONFIDENCE])
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_rejection_has_its_own_tip_and_the_emergency_line(
    reason: Reason, language: str
) -> None:
    t = texts(language)
    result = ScreeningResult(status="rejected", tier=Tier.RETAKE, reason=reason)
    text = result_text(t, result)
    assert text.startswith(t("reject.title"))
    assert t(f"reject.{reason.value}") in text
    assert t("emergency.footer") in text and "112" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_onset_answers_say_back_what_was_answered_then_what_to_do(language: str) -> None:
    t = texts(language)
    for row in TABLE.values():
        for advice in row:
            text = onset_answer_text(t, advice, UNVALIDATED)
            assert t(f"onset.said.{advice.said}") in text and t("disclaimer") in text
            if advice.tier is Tier.EMERGENCY:
                assert text.startswith(t("emergency.first"))
            else:  # the number stays in sight, and the notices close it
                assert t("onset.worse") in text and "112" in text
                assert t("not_validated") in text
    old = onset_answer_text(t, OnsetAdvice(Tier.SOON, "slow_longer"), UNVALIDATED)
    assert t("emergency.first") not in old and t("tier.urgent") not in old
    assert "112" in onset_when_text(t)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_face_test_reply_says_the_pattern_in_words_and_the_side_by_the_photos(
    language: str,
) -> None:
    t = texts(language)
    cases = {
        "stroke_type": exam("stroke_type", Tier.EMERGENCY),
        "bells_type": exam("bells_type", Tier.URGENT),
        "lower_face": exam("lower_face", Tier.EMERGENCY, brows=False),
        "unclear": exam("unclear", Tier.RETAKE),
        "none": exam("none", Tier.NO_SIGNS),
    }
    for pattern, result in cases.items():
        text = exam_text(t, result, UNVALIDATED)
        emergency = result.tier is Tier.EMERGENCY
        # The weak side is the subject's right: the left of the photos.
        assert t(f"exam.pattern.{pattern}", side=t("side.left")) in text, pattern
        assert result.confidence is not None
        sure = how_sure(t, result.confidence)
        assert (sure in text) != emergency  # how sure, but never beside the call
        shown = visible(text.replace(sure, "")).replace("112", "").replace("108", "")
        assert not re.search(r"\d", shown)  # no mm
        assert t("disclaimer") in text and len(visible(text)) <= REPLY_MAX
        assert text.startswith(t("emergency.first")) == emergency
        assert (t("not_validated") in text) != emergency
    assert t("exam.brows_skipped") in exam_text(t, cases["lower_face"], UNVALIDATED)
    assert t("exam.again") in exam_text(t, cases["unclear"], UNVALIDATED)
    healthy = exam_text(t, cases["none"], UNVALIDATED)
    assert t("exam.pattern.none") in healthy and t("tier.no_signs") in healthy


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_privacy_and_start_are_short_and_carry_the_notice(language: str) -> None:
    t = texts(language)
    for name, text in {"help": help_text(t), "privacy": t("privacy"),
                       "privacy.anonymous": t("privacy.anonymous")}.items():  # fmt: skip
        assert words(text) <= HELP_WORDS[language], (name, words(text))
    assert t("not_validated") in help_text(t) and t("not_validated") in start_text(t)
    assert len(start_text(t)) <= START_MAX  # markup included


@pytest.mark.parametrize("language", LANGUAGES)
def test_main_replies_fit_one_screen(language: str) -> None:
    t = texts(language, Who.OTHER)
    replies = {
        f"result {label}": result_text(t, finding(label, seen=(MOUTH, BROW_SAME_SIDE)), True)
        for label in CLASSES
    }
    replies["unclear"] = result_text(t, unclear(), closer=True)
    replies |= {f"reject {r}": rejection(t, r) for r in Reason}
    replies |= {
        f"onset {a.said}": onset_answer_text(t, a, None) for row in TABLE.values() for a in row
    }
    replies["rate limit"] = t("rate_limited", photos="5", window="60", wait="59")
    too_long = {name: len(visible(text)) for name, text in replies.items()}
    assert max(too_long.values()) <= REPLY_MAX, too_long


JARGON = {
    "en": re.compile(r"\b(palsy|screen\w*|diagnos\w*|model|mm)\b", re.IGNORECASE),
    "hi": re.compile("पाल्सी|निदान|मॉडल|स्क्रीन|मिमी"),
}


@pytest.mark.parametrize("language", sorted(JARGON))
def test_plain_words(language: str) -> None:
    """No jargon a first-time smartphone user would stumble on, in any text the bot sends."""
    found = {k: v for k, v in catalog(language).items() if JARGON[language].search(v)}
    assert not found, found


def test_placeholders_are_html_escaped() -> None:
    t = Texts("en", emergency="<b>1</b>", ambulance="&", retention_days=1, max_mb=1)
    assert "&lt;b&gt;1&lt;/b&gt;" in t("emergency.footer")


@pytest.mark.parametrize("language", LANGUAGES)
def test_how_sure_with_every_graded_answer_but_an_emergency(language: str) -> None:
    t = texts(language)
    for label in CLASSES:
        result = finding(label)
        assert result.confidence is not None
        sure = how_sure(t, result.confidence)
        assert (sure in result_text(t, result)) == (result.tier is not Tier.EMERGENCY), label
    assert how_sure(t, Confidence.of(0.83, "no_signs", 0.5)) == t(
        "sure.line", how=t("sure.fairly_sure"), n=8
    )
    told = result_text(t, unclear())
    assert t("sure.line", how=t("sure.not_sure"), n=6) in told  # "unclear" is never sure
    assert t("sure.line", how="", n=0).split(":")[0] not in rejection(t, Reason.NO_FACE)


@pytest.mark.parametrize("language", LANGUAGES)
def test_details_list_the_seven_classes_most_likely_first_and_the_sizes(language: str) -> None:
    t = texts(language)
    probabilities = {"mild_mouth": 0.2, NORMAL: 0.7, "severe_eye": 0.001, "mild_eye": 0.05,
                     "moderate_mouth": 0.03, "moderate_eye": 0.01,
                     "severe_mouth": 0.009}  # fmt: skip
    asymmetry = {"mouth": -0.05, "brow": 0.01, "eye": 0.0, "eye_ratio": 0.9}
    text = details_text(t, probabilities, asymmetry)
    lines = html.unescape(visible(text)).splitlines()
    ranked = sorted(probabilities, key=lambda c: -probabilities[c])
    shown = [line for line in lines if line.endswith("%")]
    assert shown == [
        f"{t(f'details.class.{c}')}: {p}"
        for c, p in zip(ranked, ("70%", "20%", "5%", "3%", "1%", "1%", "<1%"), strict=True)
    ]
    # The sizes: 0.05 of the distance between the pupils is about 3 mm, whichever side is lower.
    for measure, size in (("mouth", "3"), ("brow", "1"), ("eye", "0")):
        assert visible(t(f"details.{measure}", size=size)) in lines
    assert t("disclaimer") in text and len(visible(text)) <= REPLY_MAX


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reply_parses_as_telegram_html(language: str) -> None:
    """What Telegram's HTML mode refuses ("<1%", a bare "&", a tag left open) never leaves the
    bot: the fake Bot API refuses it too (tests.support.fake_bot_api.html_problem)."""
    t = texts(language)
    replies = {**emergency_replies(t), "unclear": result_text(t, unclear())}
    replies |= {label: result_text(t, finding(label), closer=True) for label in CLASSES}
    tiny = {c: 0.001 for c in CLASSES} | {NORMAL: 0.996}
    replies["details"] = details_text(t, tiny, {"mouth": 0.1, "brow": -0.02, "eye": 0.01})
    replies |= {f"reject {r.value}": rejection(t, r) for r in Reason}
    for name, text in replies.items():
        assert html_problem(text) is None, (name, html_problem(text))
    assert html_problem("<1%") and html_problem("a & b") and html_problem("<b>open")
