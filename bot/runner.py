"""Runs the bot until SIGINT or SIGTERM, in one straight line on python-telegram-bot's own
parts: reach the Bot API, `post_init` (start hooks, heartbeat), PTB's Updater (`start_polling`,
or `start_webhook`), `Application.start`; then, once asked to stop, `Updater.stop`,
`Application.stop` (the updates already fetched are handled, photos being screened are
answered), `shutdown`, `post_shutdown`.

Why not `Application.run_polling` / `run_webhook`, which call the same methods: they stop by
raising SystemExit from the signal handler between their event-loop runs, and a signal that
lands as one of their start steps finishes leaves that step's completion callback behind, which
stops the next run: "Event loop stopped before Future completed", tasks destroyed pending, a
traceback (seen with a stop right as polling begins, as bench.bot_throughput's start-up
measure does; tests/bot/test_runner.py holds it). PTB's documentation leaves the loop and
the stop signal to the caller for such cases; here a signal sets `BotData.stopping`, awaited
like anything else.

Reaching the Bot API is ours: at start the bot keeps trying rather than exiting (the network
usually comes back, and an exit would only have Docker's restart policy start it again,
reloading every model each time), one plain line per attempt ("cannot reach the Bot API at
https://api.telegram.org: name not resolved; retrying in 8 s", waits of 1, 2, 4 ... 30 s), and
a stop ends a wait at once. Until Telegram has answered, no heartbeat is written, so `palsy-bot
--alive` (the image's HEALTHCHECK) says unhealthy. A token Telegram refuses is final:
ConfigError, exit 2. Once reached, outages while polling are waited out inside getUpdates
(bot.polling). The token is never in these lines (only in request URLs, and the log filter
redacts it anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import warnings
from collections.abc import Coroutine, Sequence
from typing import Any
from urllib.parse import urlsplit

from telegram.error import InvalidToken, NetworkError

from bot.app import ALLOWED_UPDATES, App
from bot.config import BotSettings, ConfigError
from bot.network import unreachable
from bot.polling import PollingBot

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _event_loop() -> asyncio.AbstractEventLoop:
    """The thread's current loop if it has one, else a new one."""
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
    app: App,
    settings: BotSettings,
    *,
    stop_signals: Sequence[int] | None = STOP_SIGNALS,
    close_loop: bool = True,
    poll_interval: float = 0.0,
    timeout: int = 10,
) -> int:
    """Run until a stop signal or `stop(app)`; returns the exit status (0).

    Raises ConfigError when Telegram refuses the token. `stop_signals=None` (tests running the
    bot in a thread): stop with `stop(app)`, from any thread.
    """
    loop = _event_loop()
    for sig in stop_signals or ():
        loop.add_signal_handler(sig, app.bot_data.stopping.set)
    try:
        return loop.run_until_complete(_serve(app, settings, poll_interval, timeout))
    finally:
        for sig in stop_signals or ():
            loop.remove_signal_handler(sig)
        if close_loop:
            loop.close()


def stop(app: App, loop: asyncio.AbstractEventLoop) -> None:
    """Ask the bot running on `loop` to stop (thread-safe); it stops as on a stop signal."""
    loop.call_soon_threadsafe(app.bot_data.stopping.set)


async def _serve(app: App, settings: BotSettings, poll_interval: float, timeout: int) -> int:
    bot, stopping = app.bot, app.bot_data.stopping
    assert isinstance(bot, PollingBot), "bot.app builds the Application on a PollingBot"
    bot.stop_on_refusal(stopping.set)
    refused = not await _reach(app, bot.origin, stopping) and not stopping.is_set()
    try:
        if refused or stopping.is_set():
            return _exit(refused, bot.origin)
        if app.post_init is not None:
            await app.post_init(app)
        updater = app.updater
        assert updater is not None, "bot.app builds the Application with PTB's Updater"
        hook = settings.webhook
        if hook is not None:
            await _unless(stopping, updater.start_webhook(
                listen=hook.listen, port=hook.port, url_path=urlsplit(hook.url).path.lstrip("/"),
                webhook_url=hook.url, secret_token=hook.secret, allowed_updates=ALLOWED_UPDATES,
            ))  # fmt: skip
        else:
            bot.poll_while(lambda: updater.running)
            # PTB deletes any webhook first (getUpdates is refused while one is set), trying
            # until Telegram answers, as it just did.
            await _unless(stopping, updater.start_polling(
                poll_interval=poll_interval, timeout=timeout, bootstrap_retries=-1,
                allowed_updates=ALLOWED_UPDATES,
            ))  # fmt: skip
        if not stopping.is_set():
            await app.start()
            await stopping.wait()
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
    return _exit(bot.refused, bot.origin)


async def _reach(app: App, origin: str, stopping: asyncio.Event) -> bool:
    """Initialize the app (getMe) until Telegram answers; False if stopped or refused."""
    failures = 0
    while not stopping.is_set():
        try:
            await _unless(stopping, app.initialize())
        except InvalidToken:
            return False
        except NetworkError as exc:
            failures += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), unreachable(origin, exc, failures))
            continue
        if failures:
            log.info("reached the Bot API at %s", origin)
        return not stopping.is_set()
    return False


async def _unless(stopping: asyncio.Event, step: Coroutine[Any, Any, Any]) -> None:
    """Await `step`, or cancel it as soon as a stop is asked for."""
    task = asyncio.ensure_future(step)
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait((task, stop), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        return
    task.result()


def _exit(refused: bool, origin: str) -> int:
    if refused:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN",
            f"the Bot API at {origin} refused it (revoked or mistyped? @BotFather shows it)",
        )
    return 0
