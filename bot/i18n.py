"""Which language a person is answered in (the catalogs themselves: model.words)."""

from __future__ import annotations

from model.words import LANGUAGES

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
