"""Per-person sliding-window rate limit for checks, shared by every replica through the
database (one window per person, changed by compare-and-set); in memory while the database
is down, and in anonymous mode per process (its keys are this process's own)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from db.log import ResultLog
from db.store import StoreUnavailable


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: float = 0.0
    # True for the first refusal in a window: tell the user once, then stay quiet.
    notify: bool = False

    @property
    def retry_after_whole_s(self) -> int:
        return max(1, math.ceil(self.retry_after_s))


@dataclass(frozen=True)
class Window:
    """One person's window: when the checks in it were made, and whether they were told."""

    times: tuple[float, ...] = ()
    told: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"times": list(self.times), "told": self.told}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Window:
        if not data:
            return cls()
        return cls(tuple(float(t) for t in data.get("times", ())), bool(data.get("told")))


def slide(window: Window, now: float, limit: int, window_s: float) -> tuple[Window, Verdict]:
    """One more check at `now`: allowed while fewer than `limit` were made in the last
    `window_s` seconds. Only allowed checks count, so a person who keeps sending while limited
    is let through again as soon as the window frees up."""
    times = tuple(t for t in window.times if now - t < window_s)
    if len(times) < limit:
        return Window((*times, now), told=False), Verdict(True)
    retry = window_s - (now - times[0])
    return Window(times, told=True), Verdict(False, retry, notify=not window.told)


class RateLimiter:
    """At most `limit` checks per `window_s` seconds per key, in this process's memory. Idle
    keys are dropped, so memory follows active users."""

    def __init__(
        self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._windows: dict[Hashable, Window] = {}
        self._last_sweep = clock()

    def hit(self, key: Hashable) -> Verdict:
        now = self._clock()
        self._sweep(now)
        self._windows[key], verdict = slide(
            self._windows.get(key, Window()), now, self.limit, self.window_s
        )
        return verdict

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < self.window_s:
            return
        self._last_sweep = now
        for key in [k for k, w in self._windows.items() if _idle(w.times, now, self.window_s)]:
            del self._windows[key]


def _idle(times: Sequence[float], now: float, window_s: float) -> bool:
    return not times or now - times[-1] >= window_s


class SharedRateLimiter:
    """`RateLimiter`'s rule, with each window in the database so that every replica counts
    the same checks. Wall-clock seconds (replicas share them; their clocks must agree within
    a second or so, as NTP keeps them)."""

    def __init__(
        self,
        results: ResultLog,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._results = results
        self._clock = clock
        # While the database is down: this process's own count, which is better than none.
        self.fallback = RateLimiter(limit, window_s, clock)

    async def hit(self, key: str) -> Verdict:
        now = self._clock()

        def change(state: dict[str, Any] | None) -> tuple[dict[str, Any], Verdict]:
            window, verdict = slide(Window.from_json(state), now, self.limit, self.window_s)
            return window.to_json(), verdict

        at = datetime.fromtimestamp(now, UTC)
        try:
            return await asyncio.to_thread(self._results.update_window, key, at, change)
        except StoreUnavailable:
            return self.fallback.hit(key)
