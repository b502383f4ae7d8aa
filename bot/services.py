"""What the handlers share: settings, screening, the result log, pseudonyms, rate limit, texts."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from telegram import User
from telegram.ext import CallbackContext

from bot.config import BotSettings
from bot.i18n import Texts, Who, pick_language
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
# Whom the checks are for, as the person said: kept in memory for a day, per process (a
# restart or another replica asks once more; until then replies use wording that fits both).
WHO_MEMORY_S = 24 * 3600.0
# The last answer, to say again in a newly chosen language; older than this, it is not repeated.
LAST_ANSWER_S = 600.0
# Photos past the rate limit: at most one "not checked" line per user this often (reactions,
# which cost no message, mark every one of them).
SEEN_LINE_EVERY_S = 5.0

# Says a reply again, in the language and wording of the Texts it is given.
Resend = Callable[[Texts], Awaitable[object]]


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
    _who: dict[int, tuple[Who, float]] = field(default_factory=dict)  # user -> answer, expiry
    _asked_who: dict[int, float] = field(default_factory=dict)  # user -> when asked
    _last: dict[int, tuple[list[Resend], float]] = field(default_factory=dict)  # by chat
    _seen_lines: dict[int, float] = field(default_factory=dict)  # user -> last "not checked"
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

    def texts(self, language: str, who: Who | None = None) -> Texts:
        s = self.settings
        return Texts(
            language,
            who,
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
        return self.texts(await self.language(user), self.who(user))

    def who(self, user: User | None) -> Who | None:
        """Whom this user said the checks are for (None: not said, or forgotten)."""
        if user is None:
            return None
        who, expires = self._who.get(user.id, (None, 0.0))
        return who if expires > time.monotonic() else None

    def remember_who(self, user: User, who: Who) -> None:
        self._who = _bounded(self._who, lambda v: v[1] > time.monotonic())
        self._who[user.id] = (who, time.monotonic() + WHO_MEMORY_S)

    def asks_who(self, user: User) -> bool:
        """True once per process while the user has not said whom the check is for."""
        if self.who(user) is not None:
            return False
        return _first_time(self._asked_who, user.id, WHO_MEMORY_S)

    def remember_answer(self, chat_id: int, *resend: Resend) -> None:
        """The answer just sent in a (private) chat, its messages in order, to say again in
        another language."""
        now = time.monotonic()
        self._last = _bounded(self._last, lambda v: now - v[1] < LAST_ANSWER_S)
        self._last[chat_id] = (list(resend), now)

    def last_answer(self, chat_id: int) -> list[Resend]:
        resend, at = self._last.get(chat_id, ([], 0.0))
        return resend if time.monotonic() - at < LAST_ANSWER_S else []

    def may_say_not_checked(self, user: User) -> bool:
        """True at most once per SEEN_LINE_EVERY_S for a user whose photos pass the limit."""
        now = time.monotonic()
        if now - self._seen_lines.get(user.id, -SEEN_LINE_EVERY_S) < SEEN_LINE_EVERY_S:
            return False
        self._seen_lines = _bounded(self._seen_lines, lambda at: now - at < SEEN_LINE_EVERY_S)
        self._seen_lines[user.id] = now
        return True

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
        self._languages = _bounded(self._languages, lambda v: v[1] > now)
        self._languages[user.id] = (language, now + LANGUAGE_CACHE_S)


K = TypeVar("K")
V = TypeVar("V")


def _bounded(memory: dict[K, V], keep: Callable[[V], bool]) -> dict[K, V]:
    """`memory`, or only the entries `keep` accepts once it holds LANGUAGE_CACHE_MAX."""
    if len(memory) < LANGUAGE_CACHE_MAX:
        return memory
    return {k: v for k, v in memory.items() if keep(v)}


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
