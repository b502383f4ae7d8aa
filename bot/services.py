"""What the handlers share: settings, screening, the result log, pseudonyms, rate limit, texts."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from telegram import User
from telegram.ext import CallbackContext

from bot.config import BotSettings
from bot.i18n import Texts, pick_language
from bot.ratelimit import RateLimiter
from bot.screening import ScreeningService
from db.log import ResultLog
from db.pseudonym import Pseudonymizer

# Replicas share the database but not this cache: another replica sees a new choice this late.
LANGUAGE_CACHE_S = 300.0
LANGUAGE_CACHE_MAX = 50_000
SERVICES_KEY = "palsy_services"


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

    def pseudonym(self, user: User) -> str | None:
        return self.pseudonyms.of(user.id)

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

    def remember_language(self, user: User, language: str | None) -> None:
        now = time.monotonic()
        if len(self._languages) >= LANGUAGE_CACHE_MAX:
            self._languages = {k: v for k, v in self._languages.items() if v[1] > now}
        self._languages[user.id] = (language, now + LANGUAGE_CACHE_S)


def services(context: CallbackContext) -> Services:  # type: ignore[type-arg]
    return context.bot_data[SERVICES_KEY]
