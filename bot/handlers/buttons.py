"""Every button press comes here first: its data is checked (bot.callbacks) and it goes to the
handler of its kind; data that is not ours, not this person's or no longer valid gets a quiet
"this button has expired" and changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from telegram import Update

from bot.callbacks import Payload
from bot.context import Context
from bot.parts import expired, query_of

log = logging.getLogger(__name__)

Route = Callable[[Update, Context, Any], Awaitable[None]]
Pressed = Callable[[Update, Context], Coroutine[Any, Any, None]]


def dispatcher(routes: Mapping[type[Payload], Route]) -> Pressed:
    """The one callback-query handler: `routes` maps each kind of button to its handler, which
    gets the parsed payload as its third argument."""

    async def pressed(update: Update, context: Context) -> None:
        query = query_of(update)
        svc = context.services
        payload = svc.buttons.parse(query.from_user.id, query.data or "")
        route = routes.get(type(payload)) if payload is not None else None
        if route is None:
            # Made up, changed, another person's, from an older version, or another pepper's.
            log.info("button press with data that is not a valid button of this person: ignored")
            await expired(query, await svc.user_texts(query.from_user))
            return
        await route(update, context, payload)

    return pressed
