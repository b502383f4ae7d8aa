"""Result-log write path: what `submit` costs the caller, against a synchronous write.

    .venv/bin/python -m bench.db_log [--rows 2000] [--url postgresql+psycopg://...]

Reports medians and p95 (microseconds) of:
- `ResultLog.submit` (what the bot's event loop pays), normal, and while the database is
  locked by another connection (SQLite: BEGIN EXCLUSIVE) or unreachable (a closed port);
- one synchronous `Store.apply` of a single row (what the loop would pay without the worker);
- the time from the first submit until `flush` reports every row written (rows per second).
SQLite by default, in a temporary directory; `--url` adds that database too (it creates the
tables in that database's default schema: point it at a scratch database).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from db.log import ResultLog
from db.records import ScreeningRecord
from db.settings import DbSettings


def sample() -> ScreeningRecord:
    return ScreeningRecord(
        status="ok",
        tier="soon",
        input_kind="photo",
        pseudonym="a" * 64,
        label="mild_eye",
        region="eye",
        severity="mild",
        probabilities={"mild_eye": 0.7, "normal": 0.3},
        asymmetry={"eye_aperture": 0.1},
        locale="en",
        timings_ms={"total": 120.0},
    )


def timed(action: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        out.append((time.perf_counter() - start) * 1e6)
    return out


def describe(name: str, micros: list[float]) -> str:
    ordered = sorted(micros)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"  {name:<38} median {statistics.median(micros):9.1f} us   p95 {p95:9.1f} us"


def run(label: str, url: URL, data_dir: Path, rows: int) -> None:
    print(f"{label}: {url.render_as_string(hide_password=True)}")
    settings = DbSettings(
        data_dir=data_dir, database_url=url.render_as_string(False), pepper="x" * 32
    )
    log = ResultLog(settings)
    log.start()
    log.submit(sample())
    assert log.flush(60)

    sync = timed(lambda: log.store.apply([sample()]), min(rows, 300))
    start = time.perf_counter()
    submit = timed(lambda: log.submit(sample()), rows)
    assert log.flush(120)
    elapsed = time.perf_counter() - start
    print(describe("submit (returns to the caller)", submit))
    print(describe("synchronous Store.apply, one row", sync))
    print(f"  median ratio sync/submit: {statistics.median(sync) / statistics.median(submit):.0f}x")
    print(f"  {rows} rows submitted and written in {elapsed:.2f} s ({rows / elapsed:.0f} rows/s)")

    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        locked = timed(lambda: log.submit(sample()), 200)
        holder.execute("ROLLBACK")
        holder.close()
        print(describe("submit while the database is locked", locked))
        assert log.flush(60)
    log.close()

    down_settings = DbSettings(
        data_dir=data_dir / "down",
        database_url="postgresql+psycopg://u:p@127.0.0.1:9/none",
        pepper="x" * 32,
    )
    down = ResultLog(down_settings, retry_delays_s=(0.01,), replay_interval_s=60)
    down.start()
    unreachable = timed(lambda: down.submit(sample()), 200)
    assert down.drain(60)
    print(describe("submit while the database is down", unreachable))
    print(f"  spooled ops: {len(down.spool.read())}")
    down.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--url", help="also run against this SQLAlchemy URL (e.g. PostgreSQL)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = URL.create("sqlite+pysqlite", database=str(Path(tmp) / "bench.sqlite3"))
        run("SQLite", sqlite_url, Path(tmp) / "sqlite", args.rows)
        if args.url:
            run("Configured", make_url(args.url), Path(tmp) / "configured", args.rows)


if __name__ == "__main__":
    main()
