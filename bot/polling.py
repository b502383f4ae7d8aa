"""The bot for PTB's own polling (its Updater): its getUpdates waits out a Bot API out of reach,
so that PTB's polling loop never has to.

PTB's loop sleeps between failed getUpdates (up to 30 s) where a stop cannot cut the sleep
short, logs every failure with a traceback, and on a refused token ends polling while the bot
runs on. Here the waiting happens inside getUpdates, which PTB abandons the moment it stops
(a stop during an outage is at once: tests/bot/test_runner.py): one plain line per attempt
("cannot reach the Bot API at https://api.telegram.org: connection refused; retrying in 4 s",
waits of 1, 2, 4 ... 30 s), one line when it answers again, Telegram's "wait" honoured, and a
refused token stops the bot as a stop signal does (`refused`; palsy-bot then exits 2).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, RetryAfter, TelegramError
from telegram.ext import ExtBot
from telegram.request import BaseRequest
from telegram.warnings import PTBDeprecationWarning

from bot.network import api_origin, backoff_s, describe, unreachable

log = logging.getLogger(__name__)

# PTB's "not given" for the request timeouts (its own default then applies), passed through.
NOT_GIVEN: Any = BaseRequest.DEFAULT_NONE


class PollingBot(ExtBot[None]):
    # PTB's objects take no new public attributes once made: ours are "_" ones, read below.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._origin = api_origin(self.base_url)
        self._polling: Callable[[], bool] = lambda: True
        self._stop: Callable[[], None] = lambda: None
        self._refused = False

    @property
    def origin(self) -> str:
        """Where the Bot API is, to name in a log line (never the URL: it holds the token)."""
        return self._origin

    @property
    def refused(self) -> bool:
        """Telegram refused the token while polling."""
        return self._refused

    def stop_on_refusal(self, stop: Callable[[], None]) -> None:
        """`stop()` asks the bot to stop, as a stop signal does (bot.runner)."""
        self._stop = stop

    def poll_while(self, polling: Callable[[], bool]) -> None:
        """`polling()` says whether polling runs: after it stopped, PTB asks once more, to tell
        Telegram what was fetched, and that is tried once."""
        self._polling = polling

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: int | timedelta | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: Any = NOT_GIVEN,
        write_timeout: Any = NOT_GIVEN,
        connect_timeout: Any = NOT_GIVEN,
        pool_timeout: Any = NOT_GIVEN,
        api_kwargs: dict[str, Any] | None = None,
    ) -> tuple[Update, ...]:
        failures = 0
        while True:
            try:
                updates = await super().get_updates(
                    offset, limit, timeout, allowed_updates, read_timeout=read_timeout,
                    write_timeout=write_timeout, connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout, api_kwargs=api_kwargs,
                )  # fmt: skip
            except Exception as exc:
                if not self._polling():
                    log.warning(
                        "could not confirm the last updates to Telegram (%s); they may come again",
                        describe(exc),
                    )
                    return ()
                failures += 1
                await asyncio.sleep(await self._wait(exc, failures))
                continue
            if failures:
                log.info("reached the Bot API at %s again", self._origin)
            return updates

    async def _wait(self, exc: Exception, failures: int) -> float:
        """How long to wait after `exc`, said in one line."""
        if isinstance(exc, InvalidToken):  # final: stop, and wait here to be abandoned
            self._refused = True
            self._stop()
            await asyncio.Event().wait()
        if isinstance(exc, RetryAfter):
            with warnings.catch_warnings():  # PTB 22 warns: int now, timedelta later
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                wait = exc.retry_after
            delay = 0.5 + (wait.total_seconds() if isinstance(wait, timedelta) else wait)
            log.warning("the Bot API asks to wait; polling again in %g s", delay)
            return delay
        if isinstance(exc, TelegramError):  # NetworkError and TimedOut included
            return unreachable(self._origin, exc, failures)
        delay = backoff_s(failures)  # a bug or a garbled answer: say so, keep polling
        log.error("polling failed unexpectedly; retrying in %g s", delay, exc_info=exc)
        return delay
