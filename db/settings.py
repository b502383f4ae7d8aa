"""Result-log settings from the environment; a bad value raises `ConfigError`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATA_DIR = "./data"
DEFAULT_RETENTION_DAYS = 180
SQLITE_NAME = "palsy.sqlite3"
SPOOL_NAME = "spool.jsonl"
PEPPER_NAME = "pepper"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class ConfigError(Exception):
    """A setting has a bad value; `str()` is one line naming the setting."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting
        self.message = message


@dataclass(frozen=True)
class DbSettings:
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    # None: a SQLite file in data_dir.
    database_url: str | None = None
    pepper: str | None = field(default=None, repr=False)
    pepper_file: Path | None = None
    # True: store no user link at all (no pseudonym); /forget has nothing to erase.
    anonymous: bool = False
    retention_days: int = DEFAULT_RETENTION_DAYS

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> DbSettings:
        data_dir = Path(env.get("PALSY_DATA_DIR", "").strip() or DEFAULT_DATA_DIR)
        database_url = env.get("DATABASE_URL", "").strip() or None
        if database_url is not None:
            _parse_url("DATABASE_URL", database_url)
        pepper = env.get("PALSY_PEPPER") or None
        pepper_file_text = env.get("PALSY_PEPPER_FILE", "").strip()
        if pepper is not None and pepper_file_text:
            raise ConfigError("PALSY_PEPPER", "set PALSY_PEPPER or PALSY_PEPPER_FILE, not both")
        if pepper is not None and len(pepper.encode()) < 16:
            raise ConfigError("PALSY_PEPPER", "too short: use at least 16 random characters")
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            pepper=pepper,
            pepper_file=Path(pepper_file_text) if pepper_file_text else None,
            anonymous=_parse_bool("PALSY_ANONYMOUS", env.get("PALSY_ANONYMOUS", "")),
            retention_days=_parse_days("PALSY_RETENTION_DAYS", env.get("PALSY_RETENTION_DAYS", "")),
        )

    @property
    def url(self) -> URL:
        """The SQLAlchemy URL in use: DATABASE_URL, else SQLite under data_dir."""
        if self.database_url is None:
            return URL.create("sqlite+pysqlite", database=str(self.data_dir / SQLITE_NAME))
        return _parse_url("DATABASE_URL", self.database_url)

    @property
    def spool_path(self) -> Path:
        return self.data_dir / SPOOL_NAME

    @property
    def default_pepper_path(self) -> Path:
        return self.data_dir / PEPPER_NAME


def _parse_url(setting: str, text: str) -> URL:
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise ConfigError(setting, f"not a database URL ({exc})") from None
    # Only psycopg 3 is installed: plain postgres URLs would ask for psycopg2.
    if url.drivername in {"postgres", "postgresql"}:
        url = url.set(drivername="postgresql+psycopg")
    return url


def _parse_bool(setting: str, text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(setting, f"expected 1/0, true/false, yes/no or on/off, got {text!r}")


def _parse_days(setting: str, text: str) -> int:
    value = text.strip().lower().removesuffix("d")
    if not value:
        return DEFAULT_RETENTION_DAYS
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(setting, f"expected a whole number of days >= 1, got {text!r}")
    return int(value)
