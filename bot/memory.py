"""What one process remembers for a while: bounded memories and per-person locks.

Each memory has its own stated limit (`Memory(limit, keep_s)`): an entry is forgotten after its
time, and past the limit the oldest goes first. Nothing here must survive a restart or be seen
by another replica (that is in the database); a forgotten entry costs a question asked again,
a reply not repeated in a new language, or one more "not checked" line.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memory(Generic[K, V]):
    """At most `limit` entries, each kept `keep_s` seconds (or the time given when it is put).
    Oldest first out: the entry last put is the last to go."""

    def __init__(
        self, limit: int, keep_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.keep_s = limit, keep_s
        self._clock = clock
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()  # key -> (value, until)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._entries[key]
            return None
        return entry[0]

    def put(self, key: K, value: V, keep_s: float | None = None) -> None:
        now = self._clock()
        self._entries[key] = (value, now + (self.keep_s if keep_s is None else keep_s))
        self._entries.move_to_end(key)
        while self._entries:  # the expired at the front, then whatever is past the limit
            _, (_, until) = next(iter(self._entries.items()))
            if len(self._entries) <= self.limit and until > now:
                break
            self._entries.popitem(last=False)

    def first_time(self, key: K, value: V, keep_s: float | None = None) -> bool:
        """True (and `key` remembered) unless `key` is remembered already."""
        if self.get(key) is not None:
            return False
        self.put(key, value, keep_s)
        return True

    def __len__(self) -> int:
        return len(self._entries)


class Locks:
    """One lock per key while someone holds or waits for it, then forgotten: as many as the
    updates in flight (PALSY_CONCURRENT_UPDATES), never more."""

    def __init__(self) -> None:
        self._held: dict[Hashable, tuple[asyncio.Lock, int]] = {}  # key -> (lock, users)

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._held.get(key, (asyncio.Lock(), 0))
        self._held[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._held[key]
            if users == 1:
                del self._held[key]
            else:
                self._held[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._held)
