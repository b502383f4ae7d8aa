"""`palsy-db`: administer the result log (migrations, erasure, retention, NGO reports)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TextIO, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from db.engine import engine_for
from db.log import ResultLog
from db.migrate import current_revision, head_revision, upgrade
from db.pseudonym import PepperMismatch, Pseudonymizer, fingerprint, load_pepper, mismatch
from db.reports import write_exam_stats_csv, write_export, write_stats_csv
from db.settings import ConfigError, DbSettings
from db.store import (
    EXAM_EXPORT_COLUMNS,
    EXPORT_COLUMNS,
    Store,
    StoreUnavailable,
    describe_error,
)

PROG = "palsy-db"
T = TypeVar("T")
_DURATION = re.compile(r"(\d+)\s*([dhw]?)")
_UNITS = {"": "days", "d": "days", "h": "hours", "w": "weeks"}


class UsageError(Exception):
    """The admin asked for something that cannot be done as asked (exit 1)."""


def parse_duration(text: str) -> timedelta:
    """`180d`, `26w`, `36h` or a bare number of days."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or int(match.group(1)) < 1:
        raise argparse.ArgumentTypeError(f"expected a duration like 180d, 26w or 36h: {text!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Administer the palsy-screen result log. Settings come from the "
        "environment: DATABASE_URL, PALSY_DATA_DIR, PALSY_PEPPER(_FILE), PALSY_ANONYMOUS, "
        "PALSY_RETENTION_DAYS.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("upgrade", help="apply database migrations (the bot also does at start)")
    forget = commands.add_parser("forget", help="erase everything stored about one user")
    forget.add_argument("--telegram-id", type=int, required=True, help="the user's Telegram id")
    purge = commands.add_parser("purge", help="delete screenings older than the retention")
    purge.add_argument(
        "--older-than",
        type=parse_duration,
        default=None,
        help="e.g. 180d, 26w, 36h (default: PALSY_RETENTION_DAYS, 180 days)",
    )
    stats = commands.add_parser("stats", help="CSV to stdout: counts per ISO week x tier x label")
    export = commands.add_parser("export", help="all screenings, without pseudonyms")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    for sub, what in ((stats, "week x status x tier x pattern"), (export, "rows")):
        sub.add_argument(
            "--exams", action="store_true", help=f"FAST exams instead of single photos ({what})"
        )
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = DbSettings.from_env()
        return _run(args, settings, out)
    except ConfigError as exc:
        print(f"{PROG}: configuration error: {exc}", file=sys.stderr)
        return 2
    except PepperMismatch as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except StoreUnavailable as exc:
        print(f"{PROG}: database unavailable: {exc}", file=sys.stderr)
        return 1
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1


READ_ONLY = frozenset({"stats", "export"})


def _run(args: argparse.Namespace, settings: DbSettings, out: TextIO) -> int:
    if args.command in READ_ONLY:
        _require_sqlite_file(settings)  # else connecting would create an empty database
    engine = engine_for(settings)
    try:
        if args.command == "upgrade":
            _database_call(lambda: upgrade(engine))
            print(f"database at revision {head_revision()}", file=sys.stderr)
            return 0
        _require_head(engine)
        _check_pepper(settings, engine)
        if args.command == "stats" and args.exams:
            write_exam_stats_csv(_database_call(Store(engine).exam_week_counts), out)
        elif args.command == "stats":
            write_stats_csv(_database_call(Store(engine).week_counts), out)
        elif args.command == "export":
            rows = Store(engine).export_rows(exams=args.exams)
            columns = EXAM_EXPORT_COLUMNS if args.exams else EXPORT_COLUMNS
            _database_call(lambda: write_export(rows, out, args.format, columns))
        else:
            return _erase(args, settings, engine)
        return 0
    finally:
        engine.dispose()


def _database_call(action: Callable[[], T]) -> T:
    try:
        return action()
    except SQLAlchemyError as exc:
        raise StoreUnavailable(describe_error(exc)) from exc


def _require_sqlite_file(settings: DbSettings) -> None:
    url = settings.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    if not Path(url.database).is_file():
        where = "PALSY_DATA_DIR" if settings.database_url is None else "DATABASE_URL"
        raise UsageError(
            f"no database at {url.database}: nothing has been recorded there "
            f"(is {where} right? the bot, or `{PROG} upgrade`, creates it)"
        )


def _require_head(engine: Engine) -> None:
    current, head = _database_call(lambda: current_revision(engine)), head_revision()
    if current != head:
        raise UsageError(
            f"database schema is at revision {current or '(none)'}, not {head}: "
            f"run `{PROG} upgrade` first"
        )


def _check_pepper(settings: DbSettings, engine: Engine) -> None:
    """A pepper that is here must be the database's (else `forget` would find nothing and
    say so as if all were well). Only checked: palsy-db never creates or records a pepper."""
    pepper = None if settings.anonymous else load_pepper(settings)
    if pepper is None:
        return
    stored = _database_call(Store(engine).pepper_fingerprint)
    if stored is not None and stored != fingerprint(pepper):
        where = engine.url.render_as_string(hide_password=True)
        raise mismatch(stored, fingerprint(pepper), where)


def _erase(args: argparse.Namespace, settings: DbSettings, engine: Engine) -> int:
    # Through ResultLog: it replays the spool first, so no spooled record escapes erasure.
    log = ResultLog(settings, engine=engine, migrate=False)
    if args.command == "forget":
        pseudonymizer = Pseudonymizer.from_settings(settings)
        pepper_print = pseudonymizer.fingerprint
        if pepper_print is None:
            print("anonymous mode: no record is linked to a user", file=sys.stderr)
            return 0
        log.expect_pepper(pepper_print, record=False)  # checked before anything is erased
        count = log.forget(pseudonymizer.of(args.telegram_id))
        print(f"erased {count} screening(s) and any preferences of that user", file=sys.stderr)
    else:
        count = log.purge(args.older_than)
        print(f"purged {count} screening(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
