"""Every button press comes here first: its data is checked (bot.callbacks) and it goes to the
handler of its kind; data that is not ours, not this person's or no longer valid gets a quiet
"this button has expired" and changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import ContextTypes

from bot.callbacks import Payload
from bot.handlers.parts import query_of
from bot.i18n import Texts
from bot.services import services

log = logging.getLogger(__name__)

Route = Callable[[Update, ContextTypes.DEFAULT_TYPE, Any], Awaitable[None]]
Pressed = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


async def expired(query: CallbackQuery, t: Texts) -> None:
    """The answer to a press that must change nothing (a small note on the person's screen)."""
    await query.answer(t("button.expired"))


def dispatcher(routes: Mapping[type[Payload], Route]) -> Pressed:
    """The one callback-query handler: `routes` maps each kind of button to its handler, which
    gets the parsed payload as its third argument."""

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = query_of(update)
        svc = services(context)
        payload = svc.buttons.parse(query.from_user.id, query.data or "")
        route = routes.get(type(payload)) if payload is not None else None
        if route is None:
            # Made up, changed, another person's, from an older version, or another pepper's.
            log.info("button press with data that is not a valid button of this person: ignored")
            await expired(query, await svc.user_texts(query.from_user))
            return
        await route(update, context, payload)

    return pressed
