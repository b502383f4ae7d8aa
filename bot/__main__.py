"""`palsy-bot`: run the bot (long polling, or a webhook), or `--check` / `--alive` it."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import logging
import sys
from typing import TYPE_CHECKING

from bot.config import BotSettings, ConfigError, load_dotenv_file
from bot.logging_setup import setup_logging

if TYPE_CHECKING:
    from bot.services import Services
from db.settings import DbSettings

EXIT_CONFIG = 2
ALIVE_MAX_AGE_S = 120.0

log = logging.getLogger("bot")


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas (as MALLOC_ARENA_MAX does) before any thread starts.

    glibc gives each thread that allocates its own arena; the screening threads, ONNX Runtime
    and the result-log writer then keep ~10 MB of freed memory around (measured in
    bench/bot_throughput.py). Elsewhere than glibc this does nothing.
    """
    m_arena_max = -8  # from glibc's malloc.h
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(m_arena_max, arenas)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="palsy-bot", description=__doc__)
    parser.add_argument("--env-file", default=".env", help="optional settings file (.env)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="validate settings, load every model, open the database and apply migrations",
    )
    mode.add_argument("--alive", action="store_true", help="exit 0 if the running bot is alive")
    args = parser.parse_args(argv)

    load_dotenv_file(args.env_file)
    try:
        settings = BotSettings.from_env()
        db_settings = DbSettings.from_env()
    except ConfigError as exc:
        print(f"palsy-bot: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.alive:
        return _alive(settings, db_settings)
    # --check answers in one line: its findings go into that line, not into log lines.
    setup_logging("ERROR" if args.check else settings.log_level, [settings.token])
    limit_malloc_arenas()
    had_pepper = db_settings.default_pepper_path.exists()

    # Imported late: they load ONNX Runtime and SQLAlchemy, which --alive does not need.
    from bot.app import build_application, create_services
    from bot.runner import run
    from db.pseudonym import PepperMismatch
    from db.store import StoreUnavailable

    try:
        services = create_services(settings, db_settings)
    except ConfigError as exc:
        print(f"palsy-bot: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except PepperMismatch as exc:
        print(f"palsy-bot: configuration error: PALSY_PEPPER: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:  # a missing or broken model file: say which, no traceback
        hint = "" if settings.model_path else " (PALSY_MODEL_PATH names another model)"
        print(f"palsy-bot: cannot start: {type(exc).__name__}: {exc}{hint}", file=sys.stderr)
        return 1
    if args.check:
        new_pepper = not had_pepper and db_settings.default_pepper_path.exists()
        return _check(services, settings, db_settings, new_pepper)
    try:  # migrate, check the pepper against the database, replay what a last run spooled
        services.results.replay()
    except PepperMismatch as exc:  # never write one pepper's pseudonyms into another's rows
        services.results.close()
        services.screening.close()
        print(f"palsy-bot: configuration error: PALSY_PEPPER: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StoreUnavailable as exc:  # it keeps trying; the pepper is checked once it answers
        log.warning("database not reachable at start (%s); rows wait in the spool", exc)
    try:
        return run(build_application(services), settings)
    except ConfigError as exc:  # Telegram refused the token
        print(f"palsy-bot: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG


def _alive(settings: BotSettings, db_settings: DbSettings) -> int:
    from bot.app import heartbeat_age_s
    from bot.config import heartbeat_path

    age = heartbeat_age_s(heartbeat_path(settings, db_settings))
    if age is None or age > ALIVE_MAX_AGE_S:
        print("palsy-bot: not alive (no fresh heartbeat)", file=sys.stderr)
        return 1
    return 0


def _check(
    services: Services, settings: BotSettings, db_settings: DbSettings, new_pepper: bool
) -> int:
    from db.pseudonym import PepperMismatch

    try:
        services.results.replay()  # applies migrations and checks the pepper first
    except PepperMismatch as exc:
        print(f"palsy-bot: configuration error: PALSY_PEPPER: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:
        print(f"palsy-bot: database not usable: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        services.results.close()
        services.screening.close()
    info = services.screening.model_info()
    model = f"{info.name} {info.version}" if info else "loaded"
    if info and not info.clinically_validated:
        model += " (not clinically validated)"
    mode = "webhook" if settings.webhook else "polling"
    url = db_settings.url.render_as_string(hide_password=True)
    pepper = (
        f"; created the pepper {db_settings.default_pepper_path}: keep it secret, back it up"
        if new_pepper
        else ""
    )
    print(f"palsy-bot: OK: model {model}; database {url} migrated; {mode} mode{pepper}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
