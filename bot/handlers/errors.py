"""The one error handler: log what failed without personal data, apologise to the user under
the message that failed. A repeated button tap ("message is not modified") is no failure."""

from __future__ import annotations

import logging

from telegram import ReplyParameters, Update
from telegram.error import NetworkError, TelegramError

from bot.context import Context
from bot.network import describe
from bot.parts import is_not_modified

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    error = context.error
    if isinstance(update, Update) and is_not_modified(error):
        # A second tap that slipped past the handler's own check: nothing failed.
        log.debug("update %s: message not modified", update.update_id)
        return
    if isinstance(error, NetworkError):
        # Telegram out of reach is not a bug: one line in words; the traceback at DEBUG.
        where = f"error in update {update.update_id}: " if isinstance(update, Update) else ""
        log.warning("%scannot reach the Bot API: %s", where, describe(error))
        log.debug("the failed request", exc_info=error)
    elif not isinstance(update, Update):
        log.error("error outside an update: %s", type(error).__name__, exc_info=error)
        return
    else:
        # Update id and exception only: never the update itself (names, text, ids).
        log.error("error in update %s: %s", update.update_id, type(error).__name__, exc_info=error)
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    if chat is None:
        return
    svc = context.services
    t = svc.texts(svc.cached_language(update.effective_user))
    text = f"{t('error.apology')}\n{t('emergency.footer')}"
    # Under the user's own message (a photo, a command), so they know which one to send again.
    message = update.message
    quoted = (
        ReplyParameters(message.message_id, allow_sending_without_reply=True) if message else None
    )
    try:
        await context.bot.send_message(chat.id, text, reply_parameters=quoted)
    except TelegramError as exc:
        log.warning("could not send the apology: %s", type(exc).__name__)
