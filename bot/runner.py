"""Runs the bot until SIGINT or SIGTERM: reach the Bot API, then poll it (or serve the webhook).

Telegram out of reach, at start or mid-run, is one plain line per attempt ("cannot reach the Bot
API at https://api.telegram.org: name not resolved; retrying in 8 s"), with a backoff of 1, 2, 4
... capped at BACKOFF_CAP_S; the traceback only at DEBUG. The token is never in these lines (it
is only in request URLs, and the log filter redacts it anyway).

At start the bot keeps trying rather than exiting: the network usually comes back, and an exit
would only have Docker's restart policy start it again, reloading every model each time. Until
Telegram has answered, no heartbeat is written, so `palsy-bot --alive` (the image's HEALTHCHECK)
reports the container unhealthy. A token that Telegram refuses is final: ConfigError, exit 2.

Long polling is our own loop rather than PTB's Updater: PTB's retry sleep cannot be interrupted,
so a stop could wait up to 30 s. Here a stop signal ends any wait or long poll at once; the
updates already fetched are still handled (photos being screened are finished) before exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import warnings
from collections.abc import Coroutine, Sequence
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application
from telegram.warnings import PTBDeprecationWarning

from bot.app import ALLOWED_UPDATES
from bot.config import BotSettings, ConfigError
from bot.network import api_origin, describe

log = logging.getLogger(__name__)

BACKOFF_CAP_S = 30.0
CONFIRM_TIMEOUT_S = 1.0  # the last getUpdates, which tells Telegram what was fetched
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
T = TypeVar("T")


class _Stopped(Exception):
    """A stop was asked for while waiting."""


def backoff_s(failures: int) -> float:
    """Seconds to wait after the `failures`-th failure in a row: 1, 2, 4 ... BACKOFF_CAP_S."""
    return min(BACKOFF_CAP_S, 2.0 ** max(0, failures - 1))


def _event_loop() -> asyncio.AbstractEventLoop:
    """The thread's current loop if it has one (as PTB's run_polling), else a new one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop: asyncio.AbstractEventLoop | None = (
                asyncio.get_event_loop_policy().get_event_loop()
            )
        except RuntimeError:
            loop = None
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop


def run(
    app: Application,  # type: ignore[type-arg]
    settings: BotSettings,
    *,
    stop_signals: Sequence[int] | None = STOP_SIGNALS,
    close_loop: bool = True,
    poll_interval: float = 0.0,
    timeout: int = 10,
) -> int:
    """Run until a stop signal or `app.stop_running()`; returns the exit status (0).

    Raises ConfigError when Telegram refuses the token. `stop_signals=None` (tests running the
    bot in a thread): stop with `app.stop_running()` once `app.running`.
    """
    return _Runner(app, settings, stop_signals, close_loop, poll_interval, timeout).run()


class _Runner:
    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        settings: BotSettings,
        stop_signals: Sequence[int] | None,
        close_loop: bool,
        poll_interval: float,
        timeout: int,
    ) -> None:
        self.app, self.settings = app, settings
        self.stop_signals = tuple(stop_signals or ())
        self.close_loop = close_loop
        self.poll_interval, self.timeout = poll_interval, timeout
        self.origin = api_origin(settings.api_base_url)
        self.loop = _event_loop()
        self.stopping = asyncio.Event()
        self.in_run_forever = False
        self.refused: ConfigError | None = None
        self.handed_over = False

    # -- stopping ------------------------------------------------------------------------------
    def request_stop(self) -> None:
        if not self.stopping.is_set():
            log.info("stop asked for: stopping (photos already received are answered first)")
        self.stopping.set()
        if self.in_run_forever:
            self.loop.stop()

    async def _until_stop(self, coro: Coroutine[Any, Any, T]) -> T:
        """`coro`'s result, or _Stopped (and `coro` cancelled) as soon as a stop is asked for."""
        task = asyncio.ensure_future(coro)
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait((task, stop), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            raise _Stopped
        return task.result()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)
        if self.stopping.is_set():
            raise _Stopped

    def _unreachable(self, exc: BaseException, failures: int) -> float:
        delay = backoff_s(failures)
        log.warning(
            "cannot reach the Bot API at %s: %s; retrying in %g s",
            self.origin,
            describe(exc),
            delay,
        )
        log.debug("the failed request", exc_info=exc)
        return delay

    # -- the phases ----------------------------------------------------------------------------
    def run(self) -> int:
        for sig in self.stop_signals:
            self.loop.add_signal_handler(sig, self.request_stop)
        poller: asyncio.Task[None] | None = None
        try:
            if not self.loop.run_until_complete(self._reach()):
                return self._result()
            if self.settings.webhook is not None:
                for sig in self.stop_signals:
                    self.loop.remove_signal_handler(sig)
                self.handed_over = True  # PTB's run_webhook stops and shuts down by itself
                self._run_webhook()
                return 0
            if self.app.post_init is not None:
                self.loop.run_until_complete(self.app.post_init(self.app))
            if self.stopping.is_set():
                return 0
            # PTB starts inside run_forever: `app.stop_running()` stops the loop, and a stop
            # asked for while PTB starts must not fall between two loop runs (it did: the bot
            # then polled on for good).
            poller = self.loop.create_task(self._start_then_poll())
            # A start or poller that dies must not leave run_forever waiting for nothing.
            poller.add_done_callback(lambda _: self.request_stop())
            self.in_run_forever = True
            if not self.stopping.is_set():
                self.loop.run_forever()  # until request_stop() or app.stop_running()
            self.in_run_forever = False
            return self._result()
        finally:
            self.in_run_forever = False
            self.stopping.set()
            self._shut_down(poller)

    def _result(self) -> int:
        if self.refused is not None:
            raise self.refused
        return 0

    async def _reach(self) -> bool:
        """Initialize the app (getMe) until Telegram answers, and in polling mode delete any
        webhook (else getUpdates is refused); False if stopped or refused."""
        failures = 0
        while True:
            try:
                await self._until_stop(self.app.initialize())  # once done, does nothing
                if self.settings.webhook is None:
                    await self._until_stop(self.app.bot.delete_webhook())
            except _Stopped:
                return False
            except InvalidToken:
                self._refuse()
                return False
            except NetworkError as exc:
                failures += 1
                try:
                    await self._pause(self._unreachable(exc, failures))
                except _Stopped:
                    return False
                continue
            if failures:
                log.info("reached the Bot API at %s", self.origin)
            return True

    def _refuse(self) -> None:
        self.refused = ConfigError(
            "TELEGRAM_BOT_TOKEN",
            f"the Bot API at {self.origin} refused it (revoked or mistyped? @BotFather shows it)",
        )

    async def _start_then_poll(self) -> None:
        await self.app.start()
        await self._poll()

    async def _poll(self) -> None:
        """Fetch updates into the application's queue until a stop is asked for."""
        bot, offset, failures = self.app.bot, None, 0
        try:
            while True:
                delay = self.poll_interval
                try:
                    updates = await self._until_stop(
                        bot.get_updates(
                            offset=offset, timeout=self.timeout, allowed_updates=ALLOWED_UPDATES
                        )
                    )
                except _Stopped:
                    raise
                except InvalidToken:
                    self._refuse()
                    self.request_stop()
                    return
                except RetryAfter as exc:
                    with warnings.catch_warnings():  # PTB 22 warns: int now, timedelta later
                        warnings.simplefilter("ignore", PTBDeprecationWarning)
                        wait = exc.retry_after
                    delay = 0.5 + (wait.total_seconds() if isinstance(wait, timedelta) else wait)
                    log.warning("the Bot API asks to wait; polling again in %g s", delay)
                except TelegramError as exc:  # NetworkError and TimedOut included
                    failures += 1
                    delay = self._unreachable(exc, failures)
                except Exception:  # a bug or a garbled answer: say so, keep polling
                    failures += 1
                    delay = backoff_s(failures)
                    log.exception("polling failed unexpectedly; retrying in %g s", delay)
                else:
                    if failures:
                        log.info("reached the Bot API at %s again", self.origin)
                        failures = 0
                    for update in updates:
                        await self.app.update_queue.put(update)
                    if updates:
                        offset = updates[-1].update_id + 1
                if delay:
                    await self._pause(delay)
        except _Stopped:
            pass
        if offset is not None:
            await self._confirm(offset)

    async def _confirm(self, offset: int) -> None:
        """Tell Telegram what was fetched, so a restart does not fetch it again."""
        try:
            await asyncio.wait_for(
                self.app.bot.get_updates(offset=offset, timeout=0, allowed_updates=ALLOWED_UPDATES),
                CONFIRM_TIMEOUT_S,
            )
        except (TelegramError, TimeoutError) as exc:
            log.warning(
                "could not confirm the last updates to Telegram (%s); they may come again",
                describe(exc),
            )

    def _run_webhook(self) -> None:
        hook = self.settings.webhook
        assert hook is not None
        # PTB's own loop: the app is initialized already, so it goes straight to setWebhook.
        self.app.run_webhook(
            listen=hook.listen,
            port=hook.port,
            url_path=urlsplit(hook.url).path.lstrip("/"),
            webhook_url=hook.url,
            secret_token=hook.secret,
            allowed_updates=ALLOWED_UPDATES,
            stop_signals=self.stop_signals or None,
            close_loop=False,
        )

    def _shut_down(self, poller: asyncio.Task[None] | None) -> None:
        run = self.loop.run_until_complete
        try:
            if self.handed_over:
                return
            if poller is not None:
                run(poller)  # ends at once: every wait in it watches `stopping`
            if self.app.running:
                run(self.app.stop())  # handles what was fetched, waits for handlers
            run(self.app.shutdown())
            if self.app.post_shutdown is not None:
                run(self.app.post_shutdown(self.app))
        finally:
            for sig in self.stop_signals:
                with contextlib.suppress(Exception):
                    self.loop.remove_signal_handler(sig)
            if self.close_loop:
                self.loop.close()
