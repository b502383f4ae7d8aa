"""What the handlers share: settings, screening, the result log (bot.journal), the face tests
(bot.exams), pseudonyms, signed buttons, the rate limit, texts, and this process's memories.

State that must hold across replicas lives in the database, never in this process: face tests
in progress, the rate limit (bot.ratelimit), language choices (read on every update) and what
was done once (an album's onset question, the first-contact language offer: `once_marks`, kept
for ALBUM_MEMORY and LANGUAGE_OFFER). This process keeps what is a convenience, or a fallback
while the database is down, each memory with its own bound (bot.memory.Memory(limit, seconds)):
an entry is about 200 bytes, a remembered answer a few KB.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from telegram import User

from bot.callbacks import Buttons
from bot.config import BotSettings
from bot.exams import Exams
from bot.i18n import pick_language
from bot.journal import Journal
from bot.memory import Locks, Memory
from bot.ratelimit import SharedRateLimiter
from bot.screening import ScreeningService
from db.log import ResultLog
from db.pseudonym import Pseudonymizer
from db.records import utc_now
from db.store import StoreUnavailable
from model.words import Texts, Who

DAY_S = 24 * 3600.0
# Albums: Telegram sends each photo of an album within a second or two; a mark older than
# this is an album long done.
ALBUM_MEMORY = timedelta(minutes=10)
# The first reply to someone who never chose a language offers the languages once a day.
LANGUAGE_OFFER = timedelta(days=1)
# The last language read per person, for while the database is down: a day's people.
LANGUAGES_KEPT = 50_000
# "Once" marks made while the database is down, each kept as long as its kind says.
MARKS_KEPT = 10_000
# Whom the checks are for, as the person said: a day, per process (a restart or another
# replica asks once more; until then replies use wording that fits both); and whom it was
# asked. A day's people each.
WHO_KEPT = 50_000
# The last answer per chat, to say again in a newly chosen language: for 10 minutes. Telegram's
# 30 messages a second allow at most ~18,000 answers in that time; past 10,000 the oldest is
# not said again.
LAST_ANSWER_S = 600.0
LAST_ANSWERS_KEPT = 10_000
# Photos past the rate limit: at most one "not checked" line per person this often (reactions,
# which cost no message, mark every one of them); the people limited in the last few seconds.
SEEN_LINE_EVERY_S = 5.0
SEEN_LINES_KEPT = 10_000

# Says a reply again, in the language and wording of the Texts it is given.
Resend = Callable[[Texts], Awaitable[object]]


@dataclass
class Services:
    settings: BotSettings
    screening: ScreeningService
    results: ResultLog  # read and shared state here; every write goes through `journal`
    pseudonyms: Pseudonymizer
    buttons: Buttons
    limiter: SharedRateLimiter
    retention_days: int
    heartbeat: Path  # touched while running; `palsy-bot --alive` checks its age
    # Wall clock of face tests (shared by replicas); tests move it instead of sleeping.
    clock: Callable[[], datetime] = utc_now
    journal: Journal = field(init=False)
    exams: Exams = field(init=False)
    # One person's photos and buttons one at a time in this process (an album's photos are
    # face-test steps in order, not a race); across replicas, compare-and-set in the database.
    locks: Locks = field(default_factory=Locks)
    languages: Memory[int, str | None] = field(
        default_factory=lambda: Memory(LANGUAGES_KEPT, DAY_S)
    )
    marks: Memory[str, bool] = field(default_factory=lambda: Memory(MARKS_KEPT, DAY_S))
    whom: Memory[int, Who] = field(default_factory=lambda: Memory(WHO_KEPT, DAY_S))
    asked_whom: Memory[int, bool] = field(default_factory=lambda: Memory(WHO_KEPT, DAY_S))
    last_answers: Memory[int, list[Resend]] = field(
        default_factory=lambda: Memory(LAST_ANSWERS_KEPT, LAST_ANSWER_S)
    )
    seen_lines: Memory[int, bool] = field(
        default_factory=lambda: Memory(SEEN_LINES_KEPT, SEEN_LINE_EVERY_S)
    )
    # Face-test picture -> its Telegram file id, once uploaded (one per picture: four).
    example_ids: dict[str, str] = field(default_factory=dict)
    # Anonymous mode keys a person's state (face test, rate limit) under this process's secret:
    # nothing in the database links it to a person, at the price of it staying on this replica.
    _own_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def __post_init__(self) -> None:
        self.journal = Journal(self.results)
        self.exams = Exams(
            self.results,
            self.journal,
            self.screening.screener.exam_params,
            key=self.user_key,
            pseudonym=self.pseudonym,
            now=lambda: self.clock(),  # read at each use: tests move the clock
        )

    def pseudonym(self, user: User) -> str | None:
        return self.pseudonyms.of(user.id)

    def user_key(self, user: User) -> str:
        """Where the person's shared state is kept (face test in progress, rate limit, marks):
        the pseudonym, or in anonymous mode a key only this process can compute."""
        pseudonym = self.pseudonym(user)
        if pseudonym is not None:
            return pseudonym
        message = b"palsy-screen/exam/" + str(int(user.id)).encode()
        return hmac.new(self._own_secret, message, hashlib.sha256).hexdigest()

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
        stored = self.languages.get(user.id)
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
            stored = self.languages.get(user.id)
        else:
            self.remember_language(user, stored)
        return pick_language(stored, user.language_code, self.settings.default_language)

    async def user_texts(self, user: User | None) -> Texts:
        return self.texts(await self.language(user), self.who(user))

    def who(self, user: User | None) -> Who | None:
        """Whom this user said the checks are for (None: not said, or forgotten)."""
        return None if user is None else self.whom.get(user.id)

    def remember_who(self, user: User, who: Who) -> None:
        self.whom.put(user.id, who)

    def asks_who(self, user: User) -> bool:
        """True once per process while the user has not said whom the check is for."""
        if self.who(user) is not None:
            return False
        return self.asked_whom.first_time(user.id, True)

    def remember_answer(self, chat_id: int, *resend: Resend) -> None:
        """The answer just sent in a (private) chat, its messages in order, to say again in
        another language."""
        self.last_answers.put(chat_id, list(resend))

    def last_answer(self, chat_id: int) -> list[Resend]:
        return self.last_answers.get(chat_id) or []

    def may_say_not_checked(self, user: User) -> bool:
        """True at most once per SEEN_LINE_EVERY_S for a user whose photos pass the limit."""
        return self.seen_lines.first_time(user.id, True)

    def chosen_language(self, user: User) -> str | None:
        """The language the user chose (None: never chose), as last read by `language()`."""
        return self.languages.get(user.id)

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
            return self.marks.first_time(key, True, keep.total_seconds())

    def remember_language(self, user: User, language: str | None) -> None:
        self.languages.put(user.id, language)
