"""What the handlers share: settings, screening, the result log, pseudonyms, signed buttons,
the rate limit, texts.

State that must hold across replicas lives in the database, never in this process: exams in
progress, the rate limit (bot.ratelimit), language choices (read on every update) and what was
done once (an album's onset question, the first-contact language offer: `once_marks`, kept for
ALBUM_MEMORY_S and LANGUAGE_OFFER_S). This process keeps only fallbacks for while the database
is down: the last language read, and "once" marks of its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from telegram import User
from telegram.ext import CallbackContext

from bot.callbacks import Buttons
from bot.config import BotSettings
from bot.i18n import Texts, pick_language
from bot.ratelimit import SharedRateLimiter
from bot.screening import ScreeningService
from db.log import ResultLog
from db.pseudonym import Pseudonymizer
from db.records import utc_now
from db.store import StoreUnavailable

CACHE_MAX = 50_000  # per-process fallbacks: entries beyond this are dropped, oldest first
SERVICES_KEY = "palsy_services"
# Albums: Telegram sends each photo of an album within a second or two; a mark older than
# this is an album long done.
ALBUM_MEMORY = timedelta(minutes=10)
# The first reply to someone who never chose a language offers the languages once a day.
LANGUAGE_OFFER = timedelta(days=1)


@dataclass
class Services:
    settings: BotSettings
    screening: ScreeningService
    results: ResultLog
    pseudonyms: Pseudonymizer
    buttons: Buttons
    limiter: SharedRateLimiter
    retention_days: int
    heartbeat: Path  # touched while running; `palsy-bot --alive` checks its age
    _languages: dict[int, str | None] = field(default_factory=dict)  # last read, by user
    _marks: dict[str, float] = field(default_factory=dict)  # "once" marks, database down
    # Wall clock of exam states (shared by replicas); tests move it instead of sleeping.
    clock: Callable[[], datetime] = utc_now
    # Anonymous mode keys a person's state (exam, rate limit) under this process's secret:
    # nothing in the database links it to a person, at the price of it staying on this replica.
    _own_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    example_ids: dict[str, str] = field(default_factory=dict)  # exam step -> Telegram file id

    def pseudonym(self, user: User) -> str | None:
        return self.pseudonyms.of(user.id)

    def user_key(self, user: User) -> str:
        """Where the person's shared state is kept (exam in progress, rate limit, marks): the
        pseudonym, or in anonymous mode a key only this process can compute."""
        pseudonym = self.pseudonym(user)
        if pseudonym is not None:
            return pseudonym
        message = b"palsy-screen/exam/" + str(int(user.id)).encode()
        return hmac.new(self._own_secret, message, hashlib.sha256).hexdigest()

    def user_lock(self, user: User) -> asyncio.Lock:
        """One user's photos and buttons one at a time in this process (an album's photos are
        exam steps in order, not a race); across replicas, compare-and-set in the database."""
        if len(self._locks) >= CACHE_MAX:
            self._locks = {k: v for k, v in self._locks.items() if v.locked()}
        return self._locks.setdefault(user.id, asyncio.Lock())

    def texts(self, language: str) -> Texts:
        s = self.settings
        return Texts(
            language,
            emergency=s.emergency_number,
            ambulance=s.ambulance_number,
            retention_days=self.retention_days,
            max_mb=s.max_download_bytes // (1024 * 1024),
        )

    def cached_language(self, user: User | None) -> str:
        """The language without touching the database (for the error handler)."""
        if user is None:
            return self.settings.default_language
        stored = self._languages.get(user.id)
        return pick_language(stored, user.language_code, self.settings.default_language)

    async def language(self, user: User | None) -> str:
        """Stored choice, else Telegram's language_code, else the default. Read from the
        database each time (another replica may have just stored a choice); while it is down,
        the last choice this process read."""
        if user is None:
            return self.settings.default_language
        try:
            stored = await asyncio.to_thread(self.results.get_language, self.pseudonym(user))
        except StoreUnavailable:
            stored = self._languages.get(user.id)
        else:
            self.remember_language(user, stored)
        return pick_language(stored, user.language_code, self.settings.default_language)

    async def user_texts(self, user: User | None) -> Texts:
        return self.texts(await self.language(user))

    def chosen_language(self, user: User) -> str | None:
        """The language the user chose (None: never chose), as last read by `language()`."""
        return self._languages.get(user.id)

    async def first_contact(self, user: User) -> bool:
        """True once a day per person (across replicas) while no language is chosen: that
        reply offers the languages, each in its own script."""
        if self.chosen_language(user) is not None:
            return False
        return await self._first_time(user, "language-offer", "", LANGUAGE_OFFER)

    async def first_in_album(self, user: User, media_group_id: str | None) -> bool:
        """True for a photo outside an album, and for the first photo of an album to ask
        (across replicas)."""
        if media_group_id is None:
            return True
        return await self._first_time(user, "album", media_group_id, ALBUM_MEMORY)

    async def _first_time(self, user: User, what: str, detail: str, keep: timedelta) -> bool:
        # A hash of the person's key: no pseudonym and no Telegram id in the marks table.
        key = hashlib.sha256(f"{what}:{self.user_key(user)}:{detail}".encode()).hexdigest()
        try:
            return await asyncio.to_thread(self.results.first_time, key, keep)
        except StoreUnavailable:
            return _first_time(self._marks, key, keep.total_seconds())

    def remember_language(self, user: User, language: str | None) -> None:
        if len(self._languages) >= CACHE_MAX:
            self._languages.clear()  # a fallback only: the database has them all
        self._languages[user.id] = language


K = TypeVar("K")


def _first_time(seen: dict[K, float], key: K, keep_s: float) -> bool:
    """True the first time `key` comes (then remembered); entries older than `keep_s` are
    dropped once there are many, so memory follows active users."""
    now = time.monotonic()
    if len(seen) >= CACHE_MAX:
        for old in [k for k, at in seen.items() if now - at > keep_s]:
            del seen[old]
    if key in seen and now - seen[key] <= keep_s:
        return False
    seen[key] = now
    return True


def services(context: CallbackContext) -> Services:
    return context.bot_data[SERVICES_KEY]
