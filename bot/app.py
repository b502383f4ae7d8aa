"""Builds the python-telegram-bot Application: handlers in order, limits, start/stop hooks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import callbacks
from bot.callbacks import Buttons
from bot.config import BotSettings, heartbeat_path
from bot.context import CONTEXT_TYPES, BotData, Context
from bot.handlers import buttons, commands, details, errors, exam, first_contact, media, onset
from bot.polling import PollingBot
from bot.ratelimit import SharedRateLimiter
from bot.screening import ScreenerLike, ScreeningService
from bot.services import Services
from db.log import ResultLog
from db.pseudonym import Pseudonymizer
from db.settings import DbSettings
from model.words import LANGUAGES

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
# Command -> handler, in the order the menu lists them.
COMMANDS = {
    "start": commands.start,
    "check": exam.check,
    "help": commands.help_command,
    "privacy": commands.privacy,
    "language": commands.language,
    "forget": commands.forget,
    "cancel": exam.cancel,
}
# Every kind of button (bot.callbacks) -> its handler.
BUTTONS: dict[type[callbacks.Payload], buttons.Route] = {
    callbacks.Onset: onset.onset_answer,
    callbacks.Details: details.details_pressed,
    callbacks.ExamGo: exam.button,
    callbacks.ExamSkip: exam.button,
    callbacks.Language: commands.language_chosen,
    callbacks.WhoFor: first_contact.who_chosen,
    callbacks.Forget: commands.forget_chosen,
}
HEARTBEAT_EVERY_S = 30.0
PURGE_EVERY_S = 24 * 3600.0
SWEEP_EVERY_S = 600.0  # rate-limit windows, "once" marks, pending onset answers
# Every text is Telegram HTML (the catalogs' markup), and a reply quotes the message it answers
# (a message that answers none is sent to the chat instead: bot.replies).
DEFAULTS = Defaults(parse_mode=ParseMode.HTML, do_quote=True)


# A reply (or the apology) that meets a 5xx or a dropped connection is sent again, else one
# transient fault leaves the user with no answer. Not after a timeout: that one may have been
# delivered. getFile is a read: always safe to ask again.
RESEND_DELAYS_S = (0.5, 1.5)
RESENT_ENDPOINTS = frozenset({"sendMessage", "editMessageText", "getFile"})


class BotRateLimiter(AIORateLimiter):
    """PTB's limiter for Telegram's message caps, minus chat actions, plus resending replies
    after transient network faults (RESEND_DELAYS_S).

    Telegram's 30 messages a second are messages; spending that budget on "typing…" would halve
    the photos answered per second.
    """

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if endpoint == "sendChatAction":
            return await callback(*args, **kwargs)
        delays = RESEND_DELAYS_S if endpoint in RESENT_ENDPOINTS else ()
        for delay in (*delays, None):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except (BadRequest, TimedOut):
                raise
            except NetworkError as exc:
                if delay is None:
                    raise
                log.warning("%s failed (%s); again in %.1f s", endpoint, type(exc).__name__, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # the last pass returns or raises


def load_screener(settings: BotSettings) -> ScreenerLike:
    from model import Screener  # loads every model: seconds, so only when needed

    return Screener(settings.model_path, threads=1, grader_path=settings.grader_path)


def create_services(
    settings: BotSettings,
    db_settings: DbSettings,
    screener: ScreenerLike | None = None,
    results: ResultLog | None = None,
) -> Services:
    """Everything the handlers need (`results`: a result log of the caller's, e.g. with fast
    retries in tests). Raises ConfigError (bot or db) for unusable settings, and PepperMismatch
    when the pepper is missing for a database that had one."""
    results = results or ResultLog(db_settings)
    pepper = results.open_pepper()  # the first start against a new database may create it
    return Services(
        settings=settings,
        screening=ScreeningService(screener or load_screener(settings), settings.screen_workers),
        results=results,
        pseudonyms=Pseudonymizer(None if db_settings.anonymous else pepper),
        # Anonymous without a pepper: a key of this process (its buttons end with it).
        buttons=Buttons.from_pepper(pepper or secrets.token_bytes(32)),
        limiter=SharedRateLimiter(
            results, settings.rate_limit_photos, settings.rate_limit_window_s
        ),
        retention_days=db_settings.retention_days,
        heartbeat=heartbeat_path(settings, db_settings),
    )


App = Application[Any, Context, dict[Any, Any], dict[Any, Any], BotData, Any]


def build_application(services: Services) -> App:
    s = services.settings
    bot = PollingBot(
        s.token,
        base_url=s.api_base_url,
        base_file_url=s.file_base_url,
        # As ApplicationBuilder makes them: replies share a pool, getUpdates has its own.
        request=HTTPXRequest(connection_pool_size=256),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        defaults=DEFAULTS,
        rate_limiter=BotRateLimiter(max_retries=2),
    )
    app: App = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(s.concurrent_updates)
        .post_init(_on_start)
        .post_shutdown(_on_stop)
        .build()
    )
    app.bot_data.services = services
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    # Order matters: commands, then buttons, then photos and documents, then the hint.
    for name, callback in COMMANDS.items():
        app.add_handler(CommandHandler(name, callback, filters=private))
    app.add_handler(CallbackQueryHandler(buttons.dispatcher(BUTTONS)))
    app.add_handler(MessageHandler(private & filters.PHOTO, media.photo))
    app.add_handler(MessageHandler(private & filters.Document.ALL, media.document))
    app.add_handler(MessageHandler(private, media.not_a_photo))
    app.add_error_handler(errors.on_error)
    return app


async def _on_start(app: App) -> None:
    services = app.bot_data.services
    services.results.start()
    try:
        for language in (None, *LANGUAGES):
            t = services.texts(language or services.settings.default_language)
            await app.bot.set_my_commands(
                [BotCommand(name, t(f"cmd.{name}")) for name in COMMANDS], language_code=language
            )
    except NetworkError as exc:  # the menu is a convenience: start without it, say so
        log.warning("could not set the command menu (%s); next start will", type(exc).__name__)
    await _purge(services)
    app.bot_data.maintenance = asyncio.create_task(_maintenance(services))


async def _on_stop(app: App) -> None:
    services = app.bot_data.services
    task, app.bot_data.maintenance = app.bot_data.maintenance, None
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await asyncio.to_thread(services.screening.close)
    await asyncio.to_thread(services.results.close)


async def _purge(services: Services) -> None:
    """Delete rows past retention; a database that is down is tried again next time."""
    days = services.retention_days
    try:
        purged = await asyncio.to_thread(services.results.purge, timedelta(days=days))
    except Exception as exc:
        log.warning("purge failed: %s", type(exc).__name__)
        return
    log.info("purged %d screening(s) older than %d days", purged, days)


async def _sweep(services: Services) -> None:
    """Drop shared state past its use; a database that is down is tried again next time."""
    idle = timedelta(seconds=services.settings.rate_limit_window_s)
    try:
        await asyncio.to_thread(services.results.sweep, idle)
    except Exception as exc:
        log.warning("sweep failed: %s", type(exc).__name__)


async def _maintenance(services: Services) -> None:
    """Heartbeat for `palsy-bot --alive`, the sweep of short-lived shared state, and the
    daily purge (the first ran at start)."""
    last_purge = last_sweep = time.monotonic()
    while True:
        with contextlib.suppress(OSError):
            services.heartbeat.parent.mkdir(parents=True, exist_ok=True)
            services.heartbeat.touch()
        if time.monotonic() - last_sweep >= SWEEP_EVERY_S:
            last_sweep = time.monotonic()
            await _sweep(services)
        if time.monotonic() - last_purge >= PURGE_EVERY_S:
            last_purge = time.monotonic()
            await _purge(services)
        await asyncio.sleep(HEARTBEAT_EVERY_S)


def heartbeat_age_s(path: Path) -> float | None:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return None
