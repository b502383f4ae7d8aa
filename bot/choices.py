"""The first-contact choices: the language, each in its own script, and whom the check is for.
Asked once after a first reply (one small message after it, never on it: an emergency reply
carries nothing else); the answer words later replies "your" or "their". Their buttons' data is
signed and read in bot.callbacks (`Language`, `WhoFor`)."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, User

from bot.callbacks import FROM_WHO, Buttons, Language, WhoFor
from bot.services import Services
from model.words import LANGUAGES, Texts, Who, catalog


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


def question(
    svc: Services, user_id: int, t: Texts, ask_who: bool, offer_language: bool
) -> tuple[str, InlineKeyboardMarkup]:
    rows = [who_row(svc.buttons, user_id, t)] if ask_who else []
    if offer_language:
        rows.append(language_row(svc.buttons, user_id, FROM_WHO))
    return t("who.question") if ask_who else t("language.choose"), InlineKeyboardMarkup(rows)


async def follow_up(svc: Services, user: User, t: Texts, bot: Bot, chat_id: int) -> None:
    """The "who is it for?" question once, with the languages on a first contact."""
    ask_who, offer_language = svc.asks_who(user), await svc.first_contact(user)
    if ask_who or offer_language:
        text, markup = question(svc, user.id, t, ask_who, offer_language)
        await bot.send_message(chat_id, text, reply_markup=markup)
