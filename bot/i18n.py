"""Text catalogs: one JSON file per language in bot/locales, str.format placeholders, HTML text."""

from __future__ import annotations

import html
import json
import string
from functools import cache
from pathlib import Path

from bot.config import LANGUAGES

LOCALES_DIR = Path(__file__).resolve().parent / "locales"


@cache
def catalog(language: str) -> dict[str, str]:
    with (LOCALES_DIR / f"{language}.json").open(encoding="utf-8") as file:
        return json.load(file)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# Telegram's language_code that says little about the person: most phones sold in India are
# set to English, so the deployment's default (an NGO's PALSY_DEFAULT_LANGUAGE) wins over it.
UNTELLING_CODES = frozenset({"en"})


def pick_language(stored: str | None, telegram_code: str | None, default: str) -> str:
    """The user's stored choice, else Telegram's language_code ("hi", "hi-IN") unless it is
    English, else the default."""
    if stored in LANGUAGES:
        return stored
    code = (telegram_code or "").split("-")[0].lower()
    return code if code in LANGUAGES and code not in UNTELLING_CODES else default


class Texts:
    """One language's catalog; values substituted into a text are HTML-escaped."""

    def __init__(self, language: str, **common: object) -> None:
        self.language = language
        self._catalog = catalog(language)
        self._common = common  # emergency numbers, limits: filled wherever a text asks

    def __call__(self, key: str, **values: object) -> str:
        text = self._catalog[key]
        names = placeholders(text)
        if not names:
            return text
        merged = {**self._common, **values}
        return text.format(**{n: html.escape(str(merged[n]), quote=False) for n in names})
