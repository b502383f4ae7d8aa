"""Every write to the result log (db.log.ResultLog), in one place, whatever the outcome: a
screened photo (a single check, or a face-test photo that could not be used), a face test's end
(finished, expired or cancelled: its row with its steps' rows) and an onset answer.

What happens when the database is down is decided here too: screenings and onset answers never
wait (a writer thread retries, then spools them); a finished test is spooled whole; a test
nobody finished is left to expire in the database.
"""

from __future__ import annotations

import asyncio
import logging

from db.log import ResultLog
from db.records import ExamRecord, ExamState, OnsetAnswer, ScreeningRecord
from db.store import StoreUnavailable

log = logging.getLogger(__name__)


class Journal:
    def __init__(self, results: ResultLog) -> None:
        self._results = results

    def screening(self, record: ScreeningRecord) -> None:
        """A screened photo; never blocks."""
        self._results.submit(record)

    def onset(self, answer: OnsetAnswer) -> None:
        """An answer to "did it start suddenly?"; never blocks (db.store applies it only to a
        row of the same person, from its stored tier)."""
        self._results.record_onset(answer)

    async def finished(self, state: ExamState, record: ExamRecord) -> bool:
        """A finished face test, written once across replicas: False when another replica ended
        it first (that one answers). The database down: spooled with its steps, True."""
        try:
            return await asyncio.to_thread(self._results.end_exam, state, record)
        except StoreUnavailable:
            self._results.submit_exam_end(state, record)
            return True

    async def ended(self, state: ExamState, record: ExamRecord | None) -> bool:
        """A face test nobody finished (expired, cancelled, replaced by a new one; `record`
        None: an offer never taken up, nothing to log). False when it was ended elsewhere, or
        the database is down (the state then expires there)."""
        try:
            return await asyncio.to_thread(self._results.end_exam, state, record)
        except StoreUnavailable as exc:  # the person has their answer either way
            log.warning("exam end not stored: %s", exc)
            return False
