"""What the handlers share: settings, screening, the result log, pseudonyms, signed buttons,
the rate limit, texts.

State that must hold across replicas lives in the database, never in this process: exams in
progress, the rate limit (bot.ratelimit), language choices (read on every update) and what was
done once (an album's onset question, the first-contact language offer: `once_marks`, kept for
ALBUM_MEMORY and LANGUAGE_OFFER). This process keeps what is a convenience or a fallback for
while the database is down: the last language read, "once" marks of its own, whom the checks are
for, the last answer (to say again in a new language), the pace of "not checked" lines.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from telegram import User
from telegram.ext import CallbackContext

from bot.callbacks import Buttons
from bot.config import BotSettings
from bot.i18n import Texts, Who, pick_language
from bot.ratelimit import SharedRateLimiter
from bot.screening import ScreeningService
from db.log import ResultLog
from db.pseudonym import Pseudonymizer
from db.records import utc_now
from db.store import StoreUnavailable

CACHE_MAX = 50_000  # per-process memories: past this many entries, old ones are dropped
SERVICES_KEY = "palsy_services"
# Albums: Telegram sends each photo of an album within a second or two; a mark older than
# this is an album long done.
ALBUM_MEMORY = timedelta(minutes=10)
# The first reply to someone who never chose a language offers the languages once a day.
LANGUAGE_OFFER = timedelta(days=1)
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
    buttons: Buttons
    limiter: SharedRateLimiter
    retention_days: int
    heartbeat: Path  # touched while running; `palsy-bot --alive` checks its age
    _languages: dict[int, str | None] = field(default_factory=dict)  # last read, by user
    _marks: dict[str, float] = field(default_factory=dict)  # "once" marks, database down
    _who: dict[int, tuple[Who, float]] = field(default_factory=dict)  # user -> answer, expiry
    _asked_who: dict[int, float] = field(default_factory=dict)  # user -> when asked
    _last: dict[int, tuple[list[Resend], float]] = field(default_factory=dict)  # by chat
    _seen_lines: dict[int, float] = field(default_factory=dict)  # user -> last "not checked"
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
V = TypeVar("V")


def _bounded(memory: dict[K, V], keep: Callable[[V], bool]) -> dict[K, V]:
    """`memory`, or only the entries `keep` accepts once it holds CACHE_MAX."""
    if len(memory) < CACHE_MAX:
        return memory
    return {k: v for k, v in memory.items() if keep(v)}


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
