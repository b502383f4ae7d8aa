"""What every handler gets from python-telegram-bot: a `Context` whose `services` are typed
(PTB's ContextTypes with our own bot_data), set once when the Application is built."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.services import Services


class BotData:
    """PTB's bot_data, typed: the services every handler shares, and the maintenance task."""

    def __init__(self) -> None:
        self._services: Services | None = None
        self.maintenance: asyncio.Task[None] | None = None  # bot.app: heartbeat, sweep, purge
        # Asked to stop: a stop signal, a refused token or a test (bot.runner awaits it).
        self.stopping = asyncio.Event()

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the Application was built without services (bot.app)")
        return self._services

    @services.setter
    def services(self, services: Services) -> None:
        self._services = services


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    @property
    def services(self) -> Services:
        return self.bot_data.services


CONTEXT_TYPES = ContextTypes(context=Context, bot_data=BotData)
