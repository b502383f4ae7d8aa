"""Append-only JSONL spool: writes that could not reach the database wait here, fsync'd.

One operation per line. Appends and replays hold an exclusive lock (thread and `flock`),
so replicas sharing a data directory never interleave. Replay is idempotent (see db.store),
so a crash between replaying and truncating gives exactly-once, not twice. Ops the database
refuses for good go to `<spool>.rejected`, each line with the time it was refused, and are
dropped from there after the retention period (`purge_rejected`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from db.records import ExamEnd, OnsetAnswer, ScreeningRecord, utc_now

log = logging.getLogger(__name__)

Op = ScreeningRecord | OnsetAnswer | ExamEnd
REJECTED_AT = "rejected_at"  # the time a line went to the rejected file (retention)


def op_to_json(op: Op) -> dict[str, Any]:
    if isinstance(op, ScreeningRecord):
        return {"op": "screening", "record": op.to_json()}
    if isinstance(op, ExamEnd):
        return {"op": "exam_end", **op.to_json()}
    return {"op": "onset", **op.to_json()}


def op_from_json(data: dict[str, Any]) -> Op:
    if data["op"] == "screening":
        return ScreeningRecord.from_json(data["record"])
    if data["op"] == "onset":
        return OnsetAnswer.from_json(data)
    if data["op"] == "exam_end":
        return ExamEnd.from_json(data)
    raise ValueError(f"unknown spool op {data['op']!r}")


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.rejected_path = path.with_name(path.name + ".rejected")
        self._lock_path = path.with_name(path.name + ".lock")
        self._thread_lock = threading.RLock()
        self._depth = 0  # nesting of locked() in the thread that holds _thread_lock

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive across threads and processes; re-entrant within one thread."""
        with self._thread_lock:
            if self._depth:  # this thread already holds the file lock
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self._lock_path, "a") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0
                    fcntl.flock(lock_file, fcntl.LOCK_UN)

    def has_ops(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def append(self, ops: Sequence[Op]) -> None:
        """Append and fsync; raises OSError when the disk refuses (the caller keeps the ops)."""
        if ops:
            with self.locked():
                _append_lines(self.path, [json.dumps(op_to_json(op)) for op in ops])

    def read(self) -> list[Op]:
        """All complete ops in order. Lines that do not parse go to the rejected file."""
        with self.locked():
            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                return []
            ops: list[Op] = []
            bad: list[str] = []
            for line in text.splitlines():
                if not line.strip():
                    continue
                try:
                    ops.append(op_from_json(json.loads(line)))
                except (ValueError, KeyError, TypeError) as exc:
                    log.error(
                        "spool %s: unreadable line kept in %s (%s)",
                        self.path,
                        self.rejected_path,
                        exc,
                    )
                    bad.append(line)
            if bad:
                _append_lines(self.rejected_path, [_stamped(line) for line in bad])
            return ops

    def clear(self) -> None:
        with self.locked(), open(self.path, "r+b") as file:
            file.truncate(0)
            file.flush()
            os.fsync(file.fileno())

    def reject(self, ops: Sequence[Op], why: str) -> None:
        """Keep ops the database refuses for good (bad data) out of the replay path."""
        log.error(
            "result log: %d record(s) refused by the database (%s); kept in %s",
            len(ops),
            why,
            self.rejected_path,
        )
        at = utc_now().isoformat()
        lines = [json.dumps({**op_to_json(op), REJECTED_AT: at}) for op in ops]
        with self.locked():
            _append_lines(self.rejected_path, lines)

    def purge_rejected(self, before: datetime) -> int:
        """Drop rejected lines refused before `before` (lines without a time count from the
        file's last change); returns lines dropped. The file is replaced atomically."""
        with self.locked():
            try:
                text = self.rejected_path.read_text(encoding="utf-8")
                changed = datetime.fromtimestamp(self.rejected_path.stat().st_mtime, UTC)
            except FileNotFoundError:
                return 0
            lines = [line for line in text.splitlines() if line.strip()]
            kept = [line for line in lines if _rejected_at(line, changed) >= before]
            if len(kept) == len(lines):
                return 0
            temporary = self.rejected_path.with_name(self.rejected_path.name + ".tmp")
            temporary.unlink(missing_ok=True)
            if kept:
                _append_lines(temporary, kept)
                os.replace(temporary, self.rejected_path)
            else:
                self.rejected_path.unlink()
            _fsync_dir(self.rejected_path.parent)
            return len(lines) - len(kept)


def _stamped(line: str) -> str:
    """An unreadable spool line, kept as text with the time it was refused."""
    return json.dumps({"unreadable": line, REJECTED_AT: utc_now().isoformat()})


def _rejected_at(line: str, default: datetime) -> datetime:
    try:
        at = datetime.fromisoformat(json.loads(line)[REJECTED_AT])
    except (ValueError, KeyError, TypeError):
        return default
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _append_lines(path: Path, lines: Sequence[str]) -> None:
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "ab") as file:
        # A crash mid-append leaves a torn last line: start on a fresh line so it stays alone.
        if os.fstat(fd).st_size > 0 and not _ends_with_newline(path):
            file.write(b"\n")
        file.write("".join(line + "\n" for line in lines).encode())
        file.flush()
        os.fsync(file.fileno())
    if created:
        _fsync_dir(path.parent)


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as file:
        file.seek(-1, os.SEEK_END)
        return file.read(1) == b"\n"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
