"""Runs the shared Screener off the event loop and turns its results into db records."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from db.records import ScreeningRecord
from model import ExamParams, ModelInfo, Reason, ScreeningResult, StepMeasures, Tier


class ScreenerLike(Protocol):
    exam_params: ExamParams

    def exam_step(self, data: bytes) -> tuple[ScreeningResult, StepMeasures | None]: ...


class ScreeningService:
    """One Screener (one ONNX session per model), shared by a small thread pool.

    ONNX Runtime releases the GIL while it runs, so `workers` threads use that many cores
    while the event loop keeps serving other users.
    """

    def __init__(self, screener: ScreenerLike, workers: int) -> None:
        self.screener = screener
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="screen")

    def model_info(self) -> ModelInfo | None:
        classifier = getattr(self.screener, "classifier", None)
        return getattr(classifier, "info", None)

    async def screen_step(self, data: bytes) -> tuple[ScreeningResult, StepMeasures | None]:
        """The photo's screening, and what a face test keeps of it (None: no face measured):
        the one screen of every photo, a single check or a face-test step."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.screener.exam_step, data)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def rejected(reason: Reason) -> ScreeningResult:
    """A rejection decided by the bot before screening (e.g. a file too big to download)."""
    return ScreeningResult(status="rejected", tier=Tier.RETAKE, reason=reason)


def to_record(
    result: ScreeningResult,
    *,
    record_id: str,
    pseudonym: str | None,
    input_kind: str,
    locale: str,
) -> ScreeningRecord:
    model = result.model
    return ScreeningRecord(
        id=record_id,
        status=result.status,
        tier=result.tier.value,
        input_kind=input_kind,
        pseudonym=pseudonym,
        model_name=model.name if model else None,
        model_version=model.version if model else None,
        model_sha256=model.sha256 if model else None,
        grader_version=result.grader_version,
        confidence=result.confidence.value if result.confidence else None,
        reject_reason=result.reason.value if result.reason else None,
        label=result.label,
        region=result.region,
        severity=result.severity,
        probabilities={k: float(v) for k, v in result.probabilities.items()},
        asymmetry=dict(result.asymmetry),
        locale=locale,
        timings_ms={k: float(v) for k, v in result.timings_ms.items()},
    )
