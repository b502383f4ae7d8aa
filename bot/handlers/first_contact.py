"""The answer to "who is it for?" (asked by bot.choices after a first reply)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update

from bot.callbacks import WhoFor
from bot.choices import is_language_row
from bot.context import Context
from bot.parts import changed, query_of


async def who_chosen(update: Update, context: Context, press: WhoFor) -> None:
    query = query_of(update)
    await query.answer()
    who = press.who
    svc = context.services
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
            t(f"who.done.{who.value}"), reply_markup=InlineKeyboardMarkup(rows) if rows else None
        )
    )
