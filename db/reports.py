"""CSV and JSONL writers for NGO reports: weekly counts and a pseudonym-free export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal, TextIO

from db.store import EXPORT_COLUMNS, ExamWeekCount, WeekCount

ExportFormat = Literal["csv", "jsonl"]
STATS_COLUMNS = ("week", "tier", "label", "count")
EXAM_STATS_COLUMNS = ("week", "status", "tier", "pattern", "count")


def write_stats_csv(counts: Iterable[WeekCount], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STATS_COLUMNS)
    for row in counts:
        writer.writerow((row.week, row.tier, row.label, row.count))


def write_exam_stats_csv(counts: Iterable[ExamWeekCount], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXAM_STATS_COLUMNS)
    for row in counts:
        writer.writerow((row.week, row.status, row.tier, row.pattern, row.count))


def write_export(
    rows: Iterable[dict[str, Any]],
    out: TextIO,
    fmt: ExportFormat,
    columns: Sequence[str] = EXPORT_COLUMNS,
) -> int:
    """Write screenings or exams (no pseudonym column exists in `rows`); returns rows written."""
    written = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_cell(row[name]) for name in columns])
            written += 1
    else:
        for row in rows:
            out.write(json.dumps({name: row[name] for name in columns}, default=_json))
            out.write("\n")
            written += 1
    return written


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _json(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
