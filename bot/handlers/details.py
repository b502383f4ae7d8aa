"""The "Details" button under a photo's answer: how likely each of the seven answers is and the
measured left-right differences, sent under the answer.

Nothing of it is in memory or in the button (only the screening's id, signed: bot.callbacks):
it is read from the result log, so it works on any replica and after a restart. Shown only to
the person whose row it is; a row not written yet (the log writes in the background) or erased
gets a short note, and nothing is sent.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update

from bot.callbacks import Details
from bot.context import Context
from bot.parts import expired, query_of
from db.store import StoreUnavailable
from model.words import render

log = logging.getLogger(__name__)


async def details_pressed(update: Update, context: Context, press: Details) -> None:
    query = query_of(update)
    svc, user = context.services, query.from_user
    t = await svc.user_texts(user)
    try:
        kept = await asyncio.to_thread(svc.results.kept, press.record_id)
    except StoreUnavailable as exc:
        log.warning("details not read: %s", exc)
        kept = None
    if kept is None or not kept.probabilities:
        await query.answer(t("details.missing"), show_alert=True)
        return
    if kept.pseudonym != svc.pseudonym(user):
        await expired(query, t)  # another person's row: shows nothing
        return
    await query.answer()
    text = render.details_text(t, kept.probabilities, kept.asymmetry)
    if isinstance(query.message, Message):
        await query.message.reply_text(text)
    else:  # the answer is too old for Telegram to say where it was: to the person's chat
        await context.bot.send_message(user.id, text)
