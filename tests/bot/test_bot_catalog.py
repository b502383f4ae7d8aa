"""Text catalogs: every key in every language, same placeholders, valid markup, every key the
code asks for present and every key used."""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import get_args

import pytest

from bot.app import COMMANDS
from bot.config import LANGUAGES
from bot.i18n import catalog, placeholders
from model.decision.exam import Pattern, Side, Step
from model.decision.grader import TOLD
from model.decision.triage import Began, Sudden, Tier
from model.labels import REGIONS, SEVERITIES
from model.reasons import Reason

BOT = Path(__file__).resolve().parents[2] / "bot"
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
    needed |= {f"severity.{s}" for s in SEVERITIES} | {f"region.{r}" for r in REGIONS}
    assert needed <= set(english), sorted(needed - set(english))


def _literal_keys() -> set[str]:
    """Every literal first argument of a call `t("...")` in bot/."""
    keys = set()
    for path in BOT.rglob("*.py"):
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
    keys = _literal_keys()
    assert len(keys) > 20  # the scan finds the calls
    assert keys <= set(catalog("en")), sorted(keys - set(catalog("en")))


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


def test_hindi_is_written_in_devanagari() -> None:
    hindi, english = catalog("hi"), catalog("en")
    untranslated = [k for k, v in hindi.items() if v == english[k] and DEVANAGARI.search(v) is None]
    assert not untranslated
    # Telegram commands stay Latin; the words around them are Hindi.
    assert all(DEVANAGARI.search(text) for text in hindi.values())


# --- both directions: every key the code can ask for exists, every key is asked for -----------


def _dynamic_keys() -> dict[str, set[str]]:
    """Keys the code builds from a prefix and a value (f-strings), by prefix, from the enums and
    lists the code builds them from."""
    sides = ("left", "right")
    return {
        "reject.": {f"reject.{r.value}" for r in Reason},
        "tier.": {f"tier.{tier.value}" for tier in Tier if tier is not Tier.RETAKE},
        "severity.": {f"severity.{s}" for s in SEVERITIES},
        "region.": {f"region.{r}" for r in REGIONS},
        "asym.": {f"asym.{f}.{side}" for f in TOLD for side in sides},
        "cmd.": {f"cmd.{name}" for name in COMMANDS},
        "onset.": {f"onset.{a.value}" for a in (*Sudden, *Began)},
        "exam.step.": {f"exam.step.{step}" for step in get_args(Step)},
        "exam.pattern.": {f"exam.pattern.{p}" for p in get_args(Pattern)},
        "side.": {f"side.{side}" for side in get_args(Side)},
    }


def _code_strings() -> tuple[set[str], set[str]]:
    """(every string constant in bot/, the constant start of every f-string in bot/)."""
    constants, prefixes = set(), set()
    for path in BOT.rglob("*.py"):
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
    unused = keys - every_built - constants
    assert not unused, f"{language}: keys nothing uses: {sorted(unused)}"
