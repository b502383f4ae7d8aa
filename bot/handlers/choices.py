"""The buttons of the first-contact choices: the language, each in its own script, and whom the
check is for. Their data is signed and read in bot.callbacks (`Language`, `WhoFor`)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Buttons, Language, WhoFor
from bot.config import LANGUAGES
from bot.i18n import Texts, Who, catalog


def language_name(code: str) -> str:
    return catalog(code)["language.name"]


def language_row(buttons: Buttons, user_id: int, where: str) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(
            language_name(code), callback_data=buttons.data(user_id, Language(code, where))
        )
        for code in LANGUAGES
    ]


def language_buttons(buttons: Buttons, user_id: int, where: str) -> InlineKeyboardMarkup:
    """One button per catalog, each in its own language and script, so any reader finds theirs."""
    return InlineKeyboardMarkup([language_row(buttons, user_id, where)])


def who_row(buttons: Buttons, user_id: int, t: Texts) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(t(f"who.{w.value}"), callback_data=buttons.data(user_id, WhoFor(w)))
        for w in Who
    ]


def is_language_row(buttons: Buttons, user_id: int, row: tuple[InlineKeyboardButton, ...]) -> bool:
    return all(
        isinstance(buttons.parse(user_id, str(b.callback_data or "")), Language) for b in row
    )
