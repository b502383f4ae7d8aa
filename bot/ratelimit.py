"""Per-user sliding-window rate limit for photos (in memory, per process)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: float = 0.0
    # True for the first refusal in a window: tell the user once, then stay quiet.
    notify: bool = False

    @property
    def retry_after_whole_s(self) -> int:
        return max(1, math.ceil(self.retry_after_s))


class RateLimiter:
    """At most `limit` events per `window_s` seconds per key.

    Only allowed events count, so a user who keeps sending while limited is let through again
    as soon as the window frees up. Idle keys are dropped, so memory follows active users.
    """

    def __init__(
        self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._events: dict[int, deque[float]] = {}
        self._notified: dict[int, float] = {}
        self._last_sweep = clock()

    def hit(self, key: int) -> Verdict:
        now = self._clock()
        self._sweep(now)
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.window_s:
            events.popleft()
        if len(events) < self.limit:
            events.append(now)
            self._notified.pop(key, None)
            return Verdict(True)
        retry = self.window_s - (now - events[0])
        first = key not in self._notified
        self._notified[key] = now
        return Verdict(False, retry, notify=first)

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < self.window_s:
            return
        self._last_sweep = now
        for key in [k for k, ev in self._events.items() if not ev or now - ev[-1] >= self.window_s]:
            del self._events[key]
            self._notified.pop(key, None)
