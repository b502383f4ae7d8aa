"""Runs the bot until SIGINT or SIGTERM: reach the Bot API, then python-telegram-bot's own
lifecycle, `Application.run_polling` (or `run_webhook`): post_init (start hooks, heartbeat),
polling, handlers, and on a stop signal a graceful stop (the updates already fetched are
handled, photos being screened are answered), post_shutdown.

Reaching the Bot API comes first, ours: at start the bot keeps trying rather than exiting
(the network usually comes back, and an exit would only have Docker's restart policy start it
again, reloading every model each time), one plain line per attempt ("cannot reach the Bot
API at https://api.telegram.org: name not resolved; retrying in 8 s", waits of 1, 2, 4 ... 30
s), and a stop signal ends a wait at once. PTB's own start (`bootstrap_retries`) retries
without a word, and on a refused token logs a traceback. Until Telegram has answered, no
heartbeat is written, so `palsy-bot --alive` (the image's HEALTHCHECK) says unhealthy. A token
Telegram refuses is final: ConfigError, exit 2. Once reached, outages while polling are waited
out inside getUpdates (bot.polling), where PTB's stop cuts the wait short. The token is never
in these lines (only in request URLs, and the log filter redacts it anyway).
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
    app: App,
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
    bot = app.bot
    assert isinstance(bot, PollingBot), "bot.app builds the Application on a PollingBot"
    loop = _event_loop()
    stopping = asyncio.Event()
    for sig in stop_signals or ():  # until PTB puts its own in their place
        loop.add_signal_handler(sig, stopping.set)
    try:
        reached = loop.run_until_complete(_reach(app, bot.origin, stopping))
    except BaseException:
        _close(app, loop, close_loop, stop_signals or ())
        raise
    if not reached:
        _close(app, loop, close_loop, stop_signals or ())
        if stopping.is_set():
            return 0
        raise _refused(bot.origin)
    signals = stop_signals or None
    hook = settings.webhook
    try:
        if hook is not None:
            app.run_webhook(
                listen=hook.listen,
                port=hook.port,
                url_path=urlsplit(hook.url).path.lstrip("/"),
                webhook_url=hook.url,
                secret_token=hook.secret,
                allowed_updates=ALLOWED_UPDATES,
                stop_signals=signals,
                close_loop=close_loop,
            )
        else:
            bot.poll_while(lambda: app.updater is not None and app.updater.running)
            # bootstrap_retries: PTB deletes any webhook first (getUpdates is refused while one
            # is set), trying until Telegram answers, as it just did.
            app.run_polling(
                poll_interval=poll_interval,
                timeout=timeout,
                bootstrap_retries=-1,
                allowed_updates=ALLOWED_UPDATES,
                stop_signals=signals,
                close_loop=close_loop,
            )
    except InvalidToken:
        raise _refused(bot.origin) from None
    if bot.refused:
        raise _refused(bot.origin)
    return 0


async def _reach(app: App, origin: str, stopping: asyncio.Event) -> bool:
    """Initialize the app (getMe) until Telegram answers; False if stopped or refused."""
    failures = 0
    while not stopping.is_set():
        try:
            await _unless(stopping, app.initialize())  # once done, run_polling's does nothing
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


async def _unless(stopping: asyncio.Event, step: Coroutine[Any, Any, None]) -> None:
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


def _refused(origin: str) -> ConfigError:
    return ConfigError(
        "TELEGRAM_BOT_TOKEN",
        f"the Bot API at {origin} refused it (revoked or mistyped? @BotFather shows it)",
    )


def _close(
    app: App, loop: asyncio.AbstractEventLoop, close_loop: bool, signals: Sequence[int]
) -> None:
    """Telegram never reached: close what the start hooks would have (the result log, the
    screening threads), as PTB's shutdown does once it ran."""
    try:
        loop.run_until_complete(app.shutdown())
        if app.post_shutdown is not None:
            loop.run_until_complete(app.post_shutdown(app))
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        if close_loop:
            loop.close()
