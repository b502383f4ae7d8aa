"""The buttons of the first-contact choices, and their payloads (built and read only here):
the language, each in its own script, and whom the check is for."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import LANGUAGES
from bot.i18n import Texts, Who, catalog

# lang:<code>:<where the buttons were>: the menu (edited to say it is done), /start (shown
# again in the new language), under another reply (buttons dropped, a new message says so), or
# on the "who is it for?" question (which stays, in the new language, until answered).
LANGUAGE_PREFIX = "lang:"
FROM_MENU, FROM_START, FROM_REPLY, FROM_WHO = "m", "s", "r", "w"
WHO_PREFIX = "who:"


def language_name(code: str) -> str:
    return catalog(code)["language.name"]


def language_row(where: str) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(language_name(code), callback_data=f"{LANGUAGE_PREFIX}{code}:{where}")
        for code in LANGUAGES
    ]


def language_buttons(where: str) -> InlineKeyboardMarkup:
    """One button per catalog, each in its own language and script, so any reader finds theirs."""
    return InlineKeyboardMarkup([language_row(where)])


def parse_language(data: str) -> tuple[str, str] | None:
    """(language code, where) of a language button, or None."""
    code, _, where = data.removeprefix(LANGUAGE_PREFIX).partition(":")
    return (code, where) if code in LANGUAGES else None


def who_row(t: Texts) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(t(f"who.{w.value}"), callback_data=WHO_PREFIX + w.value) for w in Who
    ]


def parse_who(data: str) -> Who | None:
    try:
        return Who(data.removeprefix(WHO_PREFIX))
    except ValueError:
        return None


def is_language_row(row: tuple[InlineKeyboardButton, ...]) -> bool:
    return all(str(b.callback_data or "").startswith(LANGUAGE_PREFIX) for b in row)
