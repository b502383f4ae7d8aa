"""Text catalogs: every key in every language, same placeholders, valid markup, every key the
code asks for present and every key used; Hindi in Devanagari with no unexplained Latin word,
plural forms by count, "your"/"their" variants that match their base text."""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import get_args

import pytest

from bot.app import COMMANDS
from model.decision.confidence import BANDS
from model.decision.exam import Pattern, Side, Step
from model.decision.onset import TABLE, Began, Sudden
from model.decision.told import Part
from model.decision.triage import Tier
from model.labels import NORMAL, PAPER_CLASSES, SEVERITIES
from model.reasons import Reason
from model.words import LANGUAGES, PLURAL_FORMS, Texts, Who, catalog, placeholders, render

REPO = Path(__file__).resolve().parents[2]
# Where texts are asked for: the bot, and the words shared with palsy-check.
CODE = (REPO / "bot", REPO / "model" / "words", REPO / "model" / "__main__.py")
ALLOWED_TAGS = {"b", "i", "code"}  # what Telegram's HTML mode takes, and all we need
DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def test_every_language_has_every_key_with_the_same_placeholders() -> None:
    english = catalog("en")
    for language in LANGUAGES:
        other = catalog(language)
        assert set(other) == set(english), f"{language}: keys differ"
        for key, text in english.items():
            assert placeholders(other[key]) == placeholders(text), f"{language}:{key}"


def test_texts_the_bot_needs_exist() -> None:
    english = catalog("en")
    needed = {f"reject.{reason.value}" for reason in Reason}
    needed |= {f"tier.{tier.value}" for tier in Tier if tier is not Tier.RETAKE}
    needed |= {f"size.{s}" for s in SEVERITIES}
    assert needed <= set(english), sorted(needed - set(english))


def _plural_families(keys: set[str]) -> set[str]:
    """`key` for every `key.one` + `key.other` pair (`who.done.other` is someone else)."""
    return {k.removesuffix(".other") for k in keys if k.removesuffix(".other") + ".one" in keys}


def _exists(key: str, keys: set[str]) -> bool:
    """A key, or a plural family (`key.other`) asked for with a count."""
    return key in keys or f"{key}.other" in keys


def _code_files() -> list[Path]:
    return [f for place in CODE for f in ([place] if place.is_file() else place.rglob("*.py"))]


def _literal_keys() -> set[str]:
    """Every literal first argument of a call `t("...")` in the code that asks for texts."""
    keys = set()
    for path in _code_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                keys.add(node.args[0].value)
    return keys


def test_every_literal_key_used_in_code_exists() -> None:
    keys, english = _literal_keys(), set(catalog("en"))
    assert len(keys) > 20  # the scan finds the calls
    missing = {k for k in keys if not _exists(k, english)}
    assert not missing, sorted(missing)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")


@pytest.mark.parametrize("language", LANGUAGES)
def test_markup_is_balanced_telegram_html(language: str) -> None:
    for key, text in catalog(language).items():
        parser = _Tags()
        parser.feed(text)
        assert not parser.problems and not parser.open, f"{language}:{key}: {parser.problems}"
        assert "&" not in text.replace("&amp;", ""), f"{language}:{key}: escape & as &amp;"


# Never shown: the words of distress the bot looks for (people type Hindi in Latin letters too).
MATCH_LISTS = {"distress.words"}
# What a Hindi text may hold in Latin letters: Telegram's commands (they cannot be translated).
COMMAND = re.compile(r"/[a-z]+")
SAMPLE = {"emergency": "112", "ambulance": "108", "count": 3, "retention_days": 180, "max_mb": 20,
          "photos": "5", "window": "60", "wait": "30", "side": "", "how": "",
          "language": "हिंदी", "n": 8, "size": 3}  # fmt: skip


def _shown(text: str) -> str:
    """What a reader sees of a text: placeholders filled with numbers, no markup, no commands."""
    filled = text.format(**{n: SAMPLE[n] for n in placeholders(text)})
    return COMMAND.sub("", re.sub(r"<[^>]+>", "", filled))


def test_hindi_has_every_text_translated_and_no_latin_words() -> None:
    """Numbers, 112 and 108 (from the settings) and /commands only: a Latin word a reader may
    not know ("BE-FAST", "ID", "JPG") is caught here, and so is a key left in English."""
    hindi, english = catalog("hi"), catalog("en")
    shown = {k: _shown(v) for k, v in hindi.items() if k not in MATCH_LISTS}
    untranslated = [k for k, v in shown.items() if k != "language.name" and v == _shown(english[k])]
    assert not untranslated
    latin = {k: re.findall(r"[A-Za-z]+", v) for k, v in shown.items()}
    assert not {k: v for k, v in latin.items() if v}
    assert all(DEVANAGARI.search(text) for text in shown.values())


def test_hindi_says_lakwa_beside_stroke_and_avoids_the_stiff_words() -> None:
    """Many villagers know a stroke as लकवा; the words the review found stiff or wrong stay out."""
    hindi = {k: v for k, v in catalog("hi").items() if k not in MATCH_LISTS}
    stroke = {k for k, v in hindi.items() if "स्ट्रोक" in v}
    assert len(stroke) > 10 and all("लकव" in hindi[k] for k in stroke), stroke
    stiff = ("नकारा", "ढीले", "हैरान होने की तरह", "आपकी चेहरे", "मिमी", "निजता", "सेव किए")
    assert not {k: w for k, v in hindi.items() for w in stiff if w in v}


@pytest.mark.parametrize("language", LANGUAGES)
def test_counts_take_their_plural_form(language: str) -> None:
    t = Texts(language)
    done = {n: t("forget.done", count=n) for n in (0, 1, 2, 5)}
    assert "0" not in done[0]  # "no saved results", not "0 saved results"
    assert "1" in done[1] and done[1] != done[2].replace("2", "1")
    assert done[5] == done[2].replace("2", "5")
    families = _plural_families(set(catalog(language)))
    assert {"forget.done", "count.photos", "count.seconds", "count.minutes"} <= families
    if language == "hi":
        assert t("forget.done", count=1).count("नतीजा") == 1  # singular
        assert "नतीजे" in t("forget.done", count=2)  # plural


@pytest.mark.parametrize("language", LANGUAGES)
def test_your_and_their_variants_match_their_base(language: str) -> None:
    texts = catalog(language)
    variants = {k for k in texts if "@" in k}
    assert len(variants) >= 10
    for key in variants:
        base, _, who = key.partition("@")
        assert who in {w.value for w in Who} and base in texts, key
        assert placeholders(texts[key]) == placeholders(texts[base]), key
    footer = Texts(language, Who.OTHER, emergency=112, ambulance=108)("emergency.footer")
    assert footer == texts["emergency.footer@other"].format(emergency=112, ambulance=108)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_onset_answer_is_said_back_in_the_persons_own_words(language: str) -> None:
    """The sentence after the onset questions repeats both answers (the labels' own words)."""
    texts = catalog(language)
    said_words = {
        "en": {"sudden": "suddenly", "slow": "slowly", "unsure": "not sure"},
        "hi": {"sudden": "अचानक", "slow": "धीरे-धीरे", "unsure": "पक्का नहीं"},
    }[language]
    when_words = {"hours": texts["onset.hours"], "days": texts["onset.days"],
                  "longer": texts["onset.longer"]}  # fmt: skip
    for row in TABLE.values():
        for advice in row:
            text = texts[f"onset.said.{advice.said}"]
            first, _, when = advice.said.partition("_")
            assert said_words[first] in text, advice.said
            if when:
                label = when_words[when.removesuffix("_strong")]
                assert label.lower() in text.lower(), (advice.said, label)


# --- both directions: every key the code can ask for exists, every key is asked for -----------


def _dynamic_keys() -> dict[str, set[str]]:
    """Keys the code builds from a prefix and a value (f-strings), by prefix, from the enums and
    lists the code builds them from."""
    parts = get_args(Part)
    return {
        "reject.": {f"reject.{r.value}" for r in Reason},
        "tier.": {f"tier.{tier.value}" for tier in Tier if tier is not Tier.RETAKE},
        "size.": {f"size.{s}" for s in SEVERITIES},
        "seen.": {f"seen.{part}" for part in parts},
        "seen.also.": {f"seen.also.{part}" for part in parts},
        "cmd.": {f"cmd.{name}" for name in COMMANDS},
        "onset.": {f"onset.{a.value}" for a in (*Sudden, *Began)},
        "onset.said.": {f"onset.said.{a.said}" for row in TABLE.values() for a in row},
        "who.": {f"who.{w.value}" for w in Who},
        "who.done.": {f"who.done.{w.value}" for w in Who},
        "exam.step.": {f"exam.step.{step}" for step in get_args(Step)},
        "exam.pattern.": {f"exam.pattern.{p}" for p in get_args(Pattern)},
        "side.": {f"side.{side}" for side in get_args(Side)},
        "sure.": {f"sure.{band}" for band, _ in BANDS},
        "details.": {f"details.{m}" for m in render.DETAIL_MEASURES},
        "details.class.": {f"details.class.{c}" for c in (NORMAL, *PAPER_CLASSES)},
    }


def _code_strings() -> tuple[set[str], set[str]]:
    """(every string constant, the constant start of every f-string) in the code that asks for
    texts."""
    constants, prefixes = set(), set()
    for path in _code_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    prefixes.add(first.value)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
    return constants, prefixes


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_is_used_and_every_built_key_exists(language: str) -> None:
    keys = set(catalog(language))
    dynamic = _dynamic_keys()
    constants, prefixes = _code_strings()
    # Every f-string that builds a key ("onset.{...}") is one of the families above.
    built = {p for p in prefixes if re.fullmatch(r"([a-z_]+\.)+", p)}
    assert built <= set(dynamic), sorted(built - set(dynamic))
    every_built = set().union(*dynamic.values())
    assert every_built <= keys, sorted(every_built - keys)
    used = every_built | constants
    # A plural form is used with its family; a "your"/"their" variant with its base.
    families = _plural_families(keys) & used
    used |= {f"{family}.{form}" for family in families for form in PLURAL_FORMS}
    unused = {k for k in keys - used if k.partition("@")[0] not in used}
    assert not unused, f"{language}: keys nothing uses: {sorted(unused)}"
