"""The one error handler: log what failed without personal data, apologise to the user under
the message that failed. A repeated button tap ("message is not modified") is no failure."""

from __future__ import annotations

import logging

from telegram import ReplyParameters, Update
from telegram.error import NetworkError, TelegramError
from telegram.ext import ContextTypes

from bot.handlers.parts import is_not_modified
from bot.services import services

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    if not isinstance(update, Update):
        # Polling hiccups (network, Telegram 5xx): PTB retries by itself.
        level = logging.WARNING if isinstance(error, NetworkError) else logging.ERROR
        log.log(level, "error outside an update: %s", type(error).__name__, exc_info=error)
        return
    if is_not_modified(error):  # a second tap that slipped past the handler's own check
        log.debug("update %s: message not modified", update.update_id)
        return
    # Update id and exception only: never the update itself (names, text, ids).
    log.error("error in update %s: %s", update.update_id, type(error).__name__, exc_info=error)
    chat = update.effective_chat
    if chat is None:
        return
    svc = services(context)
    t = svc.texts(svc.cached_language(update.effective_user))
    text = f"{t('error.apology')}\n{t('emergency.footer')}"
    # Under the user's own message (a photo, a command), so they know which one to send again.
    message = update.message
    quoted = (
        ReplyParameters(message.message_id, allow_sending_without_reply=True) if message else None
    )
    try:
        await context.bot.send_message(chat.id, text, parse_mode="HTML", reply_parameters=quoted)
    except TelegramError as exc:
        log.warning("could not send the apology: %s", type(exc).__name__)
