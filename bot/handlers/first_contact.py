"""After a first reply: whom the check is for, asked once, with the language offer on a first
contact (one small message after the reply, never on it: an emergency reply carries nothing
else). The answer words later replies "your" or "their"."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardMarkup, Message, Update, User
from telegram.ext import ContextTypes

from bot.callbacks import FROM_WHO, WhoFor
from bot.handlers.choices import is_language_row, language_row, who_row
from bot.handlers.parts import changed, query_of
from bot.i18n import Texts
from bot.services import Services, services


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
        await bot.send_message(chat_id, text, parse_mode="HTML", reply_markup=markup)


async def who_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE, press: WhoFor) -> None:
    query = query_of(update)
    await query.answer()
    who = press.who
    svc = services(context)
    user = query.from_user
    svc.remember_who(user, who)
    t = await svc.user_texts(user)
    # The language row stays until it is used; the question becomes its answer.
    markup = query.message.reply_markup if isinstance(query.message, Message) else None
    rows = [
        row
        for row in (markup.inline_keyboard if markup else ())
        if is_language_row(svc.buttons, user.id, row)
    ]
    await changed(
        query.edit_message_text(
            t(f"who.done.{who.value}"),
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(rows) if rows else None,
        )
    )
