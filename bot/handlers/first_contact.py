"""After a first reply: whom the check is for, asked once, with the language offer on a first
contact (one small message after the reply, never on it: an emergency reply carries nothing
else). The answer words later replies "your" or "their"."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardMarkup, Message, Update, User
from telegram.ext import ContextTypes

from bot.handlers.choices import (
    FROM_WHO,
    is_language_row,
    language_row,
    parse_who,
    who_row,
)
from bot.handlers.parts import changed, query_of
from bot.i18n import Texts
from bot.services import Services, services


def question(t: Texts, ask_who: bool, offer_language: bool) -> tuple[str, InlineKeyboardMarkup]:
    rows = [who_row(t)] if ask_who else []
    if offer_language:
        rows.append(language_row(FROM_WHO))
    return t("who.question") if ask_who else t("language.choose"), InlineKeyboardMarkup(rows)


async def follow_up(svc: Services, user: User, t: Texts, bot: Bot, chat_id: int) -> None:
    """The "who is it for?" question once, with the languages on a first contact."""
    ask_who, offer_language = svc.asks_who(user), svc.first_contact(user)
    if ask_who or offer_language:
        text, markup = question(t, ask_who, offer_language)
        await bot.send_message(chat_id, text, parse_mode="HTML", reply_markup=markup)


async def who_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = query_of(update)
    await query.answer()
    who = parse_who(query.data or "")
    if who is None:
        return
    svc = services(context)
    svc.remember_who(query.from_user, who)
    t = await svc.user_texts(query.from_user)
    # The language row stays until it is used; the question becomes its answer.
    markup = query.message.reply_markup if isinstance(query.message, Message) else None
    rows = [row for row in (markup.inline_keyboard if markup else ()) if is_language_row(row)]
    await changed(
        query.edit_message_text(
            t(f"who.done.{who.value}"),
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(rows) if rows else None,
        )
    )
