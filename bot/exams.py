"""The FAST face test as a service: a still face, a big smile, raised eyebrows (or skipped).

It keeps each test's state in the database (db.records.ExamState: the finished steps' measures,
model's StepMeasures, with their screenings; nothing of a photo), moves it on by compare-and-set
(another replica, or a photo sent twice, may get there first) and ends tests nobody finished
(bot.journal). It never replies: the photo flow (bot.photo_flow) and the /check handlers
(bot.handlers.exam) say what its outcomes mean (bot.replies).

A single photo's result may offer the closer check: its measures wait as an "offer", which
becomes the resting step when the button is tapped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from telegram import User

from bot.journal import Journal
from db.log import ResultLog
from db.records import ExamRecord, ExamState, ExamStep, ScreeningRecord
from db.store import StoreUnavailable, expired_record
from model import ExamParams, ExamResult, Reason, ScreeningResult, Step, StepMeasures, examine_steps

NEXT = {"rest": "smile", "smile": "brows"}
# Photos of one test count as one check: its steps and two retakes; past that each photo
# counts again (else /cancel and /check again would make one check many screens).
MAX_FREE_PHOTOS = 5


@dataclass(frozen=True)
class Current:
    """What a person's next photo or message meets."""

    test: ExamState | None  # the test waiting for a photo (None: none, or only an offer)
    expired: bool = False  # a test left for EXAM_TTL ended just now (the person is told)

    @property
    def free(self) -> bool:
        """The next photo is this test's and does not count as another check."""
        return self.test is not None and self.test.taken < MAX_FREE_PHOTOS


# What a photo did to the test it was sent for (`Exams.take`).
@dataclass(frozen=True)
class Retake:
    """Not usable for this step: only this step again, with its tip."""

    step: Step
    reason: Reason | None


@dataclass(frozen=True)
class Next:
    """The step is taken; the test waits for the next one."""

    state: ExamState
    step: Step  # the one just taken
    result: ScreeningResult  # its photo's screening
    exam: ExamResult | None  # the test so far (None after the resting photo)


@dataclass(frozen=True)
class Finish:
    """The test's result, to be written (bot.journal.finished) before it is said."""

    state: ExamState
    exam: ExamResult
    record: ExamRecord


Taken = Retake | Next | Finish


class Exams:
    def __init__(
        self,
        results: ResultLog,
        journal: Journal,
        params: ExamParams,
        *,
        key: Callable[[User], str],
        pseudonym: Callable[[User], str | None],
        now: Callable[[], datetime],
    ) -> None:
        """`key`: where a person's test is kept; `now`: the wall clock replicas share."""
        self._results, self._journal, self.params = results, journal, params
        self._key, self._pseudonym, self._now = key, pseudonym, now

    # --- state in the database ----------------------------------------------------------------

    async def _load(self, user: User) -> ExamState | None:
        return await asyncio.to_thread(self._results.exam_state, self._key(user))

    async def _save(self, state: ExamState, expect: str | None = None) -> bool:
        """Compare-and-set (db.store.Store.put_exam_state): False when another replica or
        message got there first."""
        return await asyncio.to_thread(self._results.put_exam_state, state, expect)

    async def _end(self, state: ExamState, status: str) -> bool:
        return await self._journal.ended(state, expired_record(state, self._now(), status))

    def _new(self, user: User, waiting: str, steps: dict[str, ExamStep] | None = None) -> ExamState:
        now = self._now()
        return ExamState(key=self._key(user), pseudonym=self._pseudonym(user), waiting=waiting,
                         steps=steps or {}, started_at=now, updated_at=now)  # fmt: skip

    # --- what a person meets ------------------------------------------------------------------

    async def current(self, user: User) -> Current:
        """The test this person is in the middle of. One left for EXAM_TTL ends here; a
        database that is down means no test (a photo is then a single check)."""
        try:
            state = await self._load(user)
        except StoreUnavailable:
            return Current(None)
        if state is None:
            return Current(None)
        if state.expired(self._now()):
            ended = await self._end(state, "expired")
            return Current(None, expired=ended and state.waiting != "offer")
        return Current(None if state.waiting == "offer" else state)

    async def offer(self, user: User, record: ScreeningRecord, step: StepMeasures) -> str | None:
        """Keep a single photo's measures as a possible resting step: the offer's test id (None
        when the database is down, or a test began meanwhile on another replica: the photo's
        answer stands alone)."""
        state = self._new(user, "offer", {"rest": ExamStep(record, step.to_dict())})
        try:
            return state.exam_id if await self._save(state) else None
        except StoreUnavailable:
            return None

    async def begin(self, user: User) -> ExamState:
        """A new test from the resting photo; one running is cancelled (or, if it expired,
        ended as expired). StoreUnavailable when it cannot be kept."""
        old = await self._load(user)
        if old is not None:
            await self._end(old, "expired" if old.expired(self._now()) else "cancelled")
        state = self._new(user, "rest")
        if await self._save(state):
            return state
        # Another replica started one this moment (a second /check): go on with that one.
        current = await self._load(user)
        if current is None or current.waiting == "offer":
            raise StoreUnavailable("the face test keeps changing")
        return current

    async def cancel(self, test: ExamState) -> None:
        """/cancel: logged as cancelled, with the steps it had."""
        await self._end(test, "cancelled")

    async def pressed(self, user: User, exam_id: str) -> ExamState | None:
        """The test a button was for, if it is still the person's and has not expired.
        StoreUnavailable when the database cannot say."""
        state = await self._load(user)
        if state is None or state.exam_id != exam_id or state.expired(self._now()):
            return None
        return state

    async def accept(self, offer: ExamState) -> ExamState | None:
        """The offer's "closer check": its photo is the resting step, the smile is next. None
        when it is no offer any more (taken elsewhere, or a test began)."""
        if offer.waiting != "offer":
            return None
        now = self._now()
        moved = replace(offer, waiting="smile", started_at=now, updated_at=now)
        return moved if await self._save(moved, expect="offer") else None

    def skip(self, test: ExamState, locale: str) -> Finish | None:
        """The brow step skipped: the result from rest and smile (None: not at that step)."""
        if test.waiting != "brows":
            return None
        return self._finish(test, self.examine(test.steps), locale)

    async def take(
        self,
        test: ExamState,
        result: ScreeningResult,
        step: StepMeasures | None,
        record: ScreeningRecord,
        locale: str,
    ) -> Taken | None:
        """A photo for the step the test waits for: retake that step, go on, or finish. None
        when the test moved on meanwhile (another replica took a photo for this step, or
        finished it): the photo is then a single check."""
        name = cast(Step, test.waiting)
        moved = replace(test, taken=test.taken + 1, updated_at=self._now())
        reason = result.reason
        if step is not None:
            steps = {**test.steps, name: ExamStep(record, step.to_dict())}
            exam = None
            if name != "rest":
                exam = self.examine(steps)
                reason = exam.reason if exam.status == "rejected" else None
            if exam is not None and exam.status == "ok" and name == "brows":
                return self._finish(replace(moved, steps=steps), exam, locale)
            if exam is None or exam.status == "ok":
                moved = replace(moved, waiting=NEXT[name], steps=steps)
                if not await self._save(moved, expect=name):
                    return None
                return Next(moved, name, result, exam)
        # Not usable for this step: the photo is logged as any refused photo is.
        if not await self._save(moved, expect=name):
            return None
        return Retake(name, reason)

    def examine(self, steps: dict[str, ExamStep]) -> ExamResult:
        measures = {name: StepMeasures.from_dict(step.measures) for name, step in steps.items()}
        return examine_steps(self.params, measures)

    def _finish(self, test: ExamState, exam: ExamResult, locale: str) -> Finish:
        record = ExamRecord(id=test.exam_id, status="ok", started_at=test.started_at,
                            created_at=self._now(), pseudonym=test.pseudonym,
                            tier=exam.tier.value, pattern=exam.pattern, weak_side=exam.weak_side,
                            movement=_movement(exam), locale=locale,
                            exam_version=exam.exam_version,
                            confidence=_told(exam))  # fmt: skip
        return Finish(test, exam, record)


def _told(exam: ExamResult) -> float | None:
    """The calibrated probability the person was told (how sure), for the log."""
    return exam.confidence.value if exam.confidence else None


def _movement(exam: ExamResult) -> dict[str, Any]:
    out: dict[str, Any] = {"smile_ratio": exam.smile_ratio and round(exam.smile_ratio, 3)}
    for side, moved in (("left", exam.left), ("right", exam.right)):
        if moved is not None:
            out |= {f"{side}_{k}": v for k, v in moved.to_dict().items()}
    return out
