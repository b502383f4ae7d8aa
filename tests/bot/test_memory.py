"""The process's memories stay within their own limits, and forget on time; a person's lock
lives only while it is held or awaited."""

from __future__ import annotations

import asyncio
import dataclasses

from bot import services
from bot.memory import Locks, Memory
from tests.bot.test_ratelimit import Clock  # a clock the test moves (starts at 1000 s)


def test_an_entry_is_forgotten_after_its_time() -> None:
    clock = Clock()
    memory: Memory[int, str] = Memory(limit=10, keep_s=60, clock=clock)
    memory.put(1, "en")
    memory.put(2, "hi", keep_s=600)  # its own time
    clock.now += 59
    assert memory.get(1) == "en"
    clock.now += 1
    assert memory.get(1) is None and memory.get(2) == "hi"


def test_past_its_limit_the_oldest_goes_first() -> None:
    clock = Clock()
    memory: Memory[int, int] = Memory(limit=3, keep_s=60, clock=clock)
    for key in range(3):
        memory.put(key, key)
    memory.put(0, 0)  # put again: now the newest
    memory.put(3, 3)
    assert len(memory) == 3
    assert memory.get(1) is None and [memory.get(k) for k in (0, 2, 3)] == [0, 2, 3]
    for key in range(100, 1100):
        memory.put(key, key)
    assert len(memory) == 3  # never more, however many come


def test_expired_entries_make_room_first() -> None:
    clock = Clock()
    memory: Memory[str, bool] = Memory(limit=2, keep_s=5, clock=clock)
    memory.put("old", True)
    clock.now += 10
    memory.put("a", True)
    assert len(memory) == 1  # the expired one went as the new one came


def test_first_time_once_until_forgotten() -> None:
    clock = Clock()
    memory: Memory[int, bool] = Memory(limit=10, keep_s=5, clock=clock)
    assert memory.first_time(7, True)
    assert not memory.first_time(7, True)
    clock.now += 5
    assert memory.first_time(7, True)


def test_each_memory_has_its_own_stated_limit() -> None:
    made = {
        f.name: f.default_factory()  # type: ignore[misc]
        for f in dataclasses.fields(services.Services)
        if f.type.startswith("Memory[")
    }
    assert {name: (m.limit, m.keep_s) for name, m in made.items()} == {
        "languages": (services.LANGUAGES_KEPT, services.DAY_S),
        "marks": (services.MARKS_KEPT, services.DAY_S),
        "whom": (services.WHO_KEPT, services.DAY_S),
        "asked_whom": (services.WHO_KEPT, services.DAY_S),
        "last_answers": (services.LAST_ANSWERS_KEPT, services.LAST_ANSWER_S),
        "seen_lines": (services.SEEN_LINES_KEPT, services.SEEN_LINE_EVERY_S),
    }


async def test_a_lock_is_one_at_a_time_and_forgotten_once_free() -> None:
    locks = Locks()
    order: list[str] = []
    first_in = asyncio.Event()

    async def hold(name: str, wait: asyncio.Event | None) -> None:
        async with locks.hold(42):
            order.append(f"{name} in")
            first_in.set()
            if wait is not None:
                await wait.wait()
            order.append(f"{name} out")

    release = asyncio.Event()
    first = asyncio.create_task(hold("first", release))
    await first_in.wait()
    second = asyncio.create_task(hold("second", None))
    assert len(locks) == 1 and order == ["first in"]
    release.set()
    await asyncio.gather(first, second)
    assert order == ["first in", "first out", "second in", "second out"]
    assert len(locks) == 0  # nobody holds or waits: nothing kept
