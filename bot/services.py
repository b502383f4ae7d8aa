"""What the handlers share: settings, screening, the result log, pseudonyms, rate limit, texts."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from telegram import User
from telegram.ext import CallbackContext

from bot.config import BotSettings
from bot.i18n import Texts, pick_language
from bot.ratelimit import RateLimiter
from bot.screening import ScreeningService
from db.log import ResultLog
from db.pseudonym import Pseudonymizer
from db.records import utc_now

# Replicas share the database but not this cache: another replica sees a new choice this late.
LANGUAGE_CACHE_S = 300.0
LANGUAGE_CACHE_MAX = 50_000
SERVICES_KEY = "palsy_services"
# Albums: Telegram sends each photo of an album within a second or two; an entry older than
# this is an album long done.
ALBUM_MEMORY_S = 600.0


@dataclass
class Services:
    settings: BotSettings
    screening: ScreeningService
    results: ResultLog
    pseudonyms: Pseudonymizer
    limiter: RateLimiter
    retention_days: int
    heartbeat: Path  # touched while running; `palsy-bot --alive` checks its age
    _languages: dict[int, tuple[str | None, float]] = field(default_factory=dict)
    _offered: dict[int, float] = field(default_factory=dict)  # user -> when language was offered
    _albums: dict[tuple[int, str], float] = field(default_factory=dict)  # asked about, when
    # Wall clock of exam states (shared by replicas); tests move it instead of sleeping.
    clock: Callable[[], datetime] = utc_now
    # Anonymous mode keys an exam in progress under this process's secret: nothing in the
    # database links it to a person, at the price of finishing it on this replica.
    _exam_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    example_ids: dict[str, str] = field(default_factory=dict)  # exam step -> Telegram file id

    def pseudonym(self, user: User) -> str | None:
        return self.pseudonyms.of(user.id)

    def exam_key(self, user: User) -> str:
        """Where the user's exam in progress is stored: the pseudonym, or in anonymous mode a
        key only this process can compute."""
        pseudonym = self.pseudonym(user)
        if pseudonym is not None:
            return pseudonym
        message = b"palsy-screen/exam/" + str(int(user.id)).encode()
        return hmac.new(self._exam_secret, message, hashlib.sha256).hexdigest()

    def user_lock(self, user: User) -> asyncio.Lock:
        """One user's photos and buttons one at a time (an album's photos are exam steps in
        order, not a race)."""
        if len(self._locks) >= LANGUAGE_CACHE_MAX:
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
        stored, _ = self._languages.get(user.id, (None, 0.0))
        return pick_language(stored, user.language_code, self.settings.default_language)

    async def language(self, user: User | None) -> str:
        """Stored choice (cached), else Telegram's language_code, else the default."""
        if user is None:
            return self.settings.default_language
        stored, expires = self._languages.get(user.id, (None, 0.0))
        if expires < time.monotonic():
            stored = await asyncio.to_thread(self.results.get_language, self.pseudonym(user))
            self.remember_language(user, stored)
        return pick_language(stored, user.language_code, self.settings.default_language)

    async def user_texts(self, user: User | None) -> Texts:
        return self.texts(await self.language(user))

    def chosen_language(self, user: User) -> str | None:
        """The language the user chose (None: never chose), as last read by `language()`."""
        return self._languages.get(user.id, (None, 0.0))[0]

    def first_contact(self, user: User) -> bool:
        """True once per user (per process) while no language is chosen: that reply offers the
        languages, each in its own script."""
        if self.chosen_language(user) is not None:
            return False
        return _first_time(self._offered, user.id, LANGUAGE_CACHE_S)

    def first_in_album(self, chat_id: int, media_group_id: str | None) -> bool:
        """True for a photo outside an album, and for the first photo of an album to ask."""
        if media_group_id is None:
            return True
        return _first_time(self._albums, (chat_id, media_group_id), ALBUM_MEMORY_S)

    def remember_language(self, user: User, language: str | None) -> None:
        now = time.monotonic()
        if len(self._languages) >= LANGUAGE_CACHE_MAX:
            self._languages = {k: v for k, v in self._languages.items() if v[1] > now}
        self._languages[user.id] = (language, now + LANGUAGE_CACHE_S)


K = TypeVar("K")


def _first_time(seen: dict[K, float], key: K, keep_s: float) -> bool:
    """True the first time `key` comes (then remembered); entries older than `keep_s` are
    dropped once there are many, so memory follows active users."""
    now = time.monotonic()
    if len(seen) >= LANGUAGE_CACHE_MAX:
        for old in [k for k, at in seen.items() if now - at > keep_s]:
            del seen[old]
    if key in seen:
        return False
    seen[key] = now
    return True


def services(context: CallbackContext) -> Services:
    return context.bot_data[SERVICES_KEY]
