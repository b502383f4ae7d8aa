"""Bot settings from the environment (and an optional .env file); each error names its setting."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from db.settings import ConfigError, DbSettings
from model.face.decode import DecodeLimits

# One catalog file per language: adding bot/locales/<code>.json adds the language.
LANGUAGES: tuple[str, ...] = tuple(
    sorted(p.stem for p in (Path(__file__).resolve().parent / "locales").glob("*.json"))
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Telegram tokens are "<bot id>:<secret>" (secrets are 35 characters); the check only catches
# pasting mistakes, so the example from Telegram's documentation passes.
_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{10,}$")
TOKEN_EXAMPLE = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
TOKEN_SHAPE = "<digits>:<10 or more of A-Z a-z 0-9 _ ->"
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{1,18}$")
# In webhook mode the secret is all that tells Telegram's updates from forged ones: long and
# random (Telegram allows 1-256 characters of this set; we ask for at least 32).
_SECRET = re.compile(r"^[A-Za-z0-9_-]{32,256}$")
SECRET_HOW = 'make one with: python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


# One ConfigError for the whole bot: db's, so `palsy-bot` catches one type.
__all__ = ["BotSettings", "ConfigError", "load_dotenv_file"]


@dataclass(frozen=True)
class WebhookSettings:
    url: str  # public https URL that Telegram (or the reverse proxy) posts to
    listen: str
    port: int
    secret: str  # checked against X-Telegram-Bot-Api-Secret-Token on every request


@dataclass(frozen=True)
class BotSettings:
    token: str
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str = "https://api.telegram.org/file/bot"
    emergency_number: str = "112"
    ambulance_number: str = "108"
    default_language: str = "en"
    rate_limit_photos: int = 5
    rate_limit_window_s: float = 60.0
    model_path: Path | None = None
    grader_path: Path | None = None
    log_level: str = "INFO"
    # One screen is ~16 ms of one core, so one thread screens ~60 photos/s, twice Telegram's
    # 30 messages/s cap. A second thread only contends with the event loop on a 2-core server and
    # holds a second set of buffers: bench.bot_throughput, 2 cores, 1 vs 2 threads: 20 users
    # 31-34 vs 31-35 photos/s, p95 0.66 vs 0.86-1.05 s, peak RSS 180 vs 210-215 MB.
    screen_workers: int = 1
    concurrent_updates: int = 64
    # The Bot API's getFile refuses larger files; the decoder's own limit is the same 20 MiB.
    max_download_bytes: int = DecodeLimits().max_bytes
    webhook: WebhookSettings | None = None
    # None: `<data dir>/heartbeat`. Replicas that share a data directory each need their own.
    heartbeat_file: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BotSettings:
        """Read the settings; `env=None` means `os.environ` after loading `./.env` if present."""
        if env is None:
            load_dotenv_file()
            env = os.environ
        r = _Reader(env)
        defaults = cls(token="0:placeholder")
        return cls(
            token=r.token(),
            api_base_url=r.url("TELEGRAM_API_BASE_URL", defaults.api_base_url),
            file_base_url=r.url("TELEGRAM_FILE_BASE_URL", defaults.file_base_url),
            emergency_number=r.phone("PALSY_EMERGENCY_NUMBER", defaults.emergency_number),
            ambulance_number=r.phone("PALSY_AMBULANCE_NUMBER", defaults.ambulance_number),
            default_language=r.choice(
                "PALSY_DEFAULT_LANGUAGE", defaults.default_language, LANGUAGES
            ),
            rate_limit_photos=r.integer("PALSY_RATE_LIMIT_PHOTOS", defaults.rate_limit_photos, 1),
            rate_limit_window_s=float(
                r.integer("PALSY_RATE_LIMIT_WINDOW_S", int(defaults.rate_limit_window_s), 1)
            ),
            model_path=r.existing_file("PALSY_MODEL_PATH"),
            grader_path=r.existing_file("PALSY_GRADER_PATH"),
            log_level=r.choice("PALSY_LOG_LEVEL", defaults.log_level, LOG_LEVELS, upper=True),
            screen_workers=r.integer("PALSY_SCREEN_WORKERS", defaults.screen_workers, 1, 64),
            concurrent_updates=r.integer(
                "PALSY_CONCURRENT_UPDATES", defaults.concurrent_updates, 1, 4096
            ),
            webhook=r.webhook(),
            heartbeat_file=r.path("PALSY_HEARTBEAT_FILE"),
        )


HEARTBEAT_NAME = "heartbeat"


def heartbeat_path(settings: BotSettings, db_settings: DbSettings) -> Path:
    """PALSY_HEARTBEAT_FILE, else `<data dir>/heartbeat`. Replicas sharing a data directory
    need one each (the image puts it in the container's own /tmp): else one live replica
    would make a hung one look healthy."""
    return settings.heartbeat_file or db_settings.data_dir / HEARTBEAT_NAME


def load_dotenv_file(path: Path | str = ".env") -> None:
    """Load `path` into os.environ without overriding variables that are already set."""
    from dotenv import load_dotenv

    if Path(path).is_file():
        load_dotenv(path, override=False)


def _describe_token(value: str) -> str:
    """What is wrong with a token, by counts only: the value is a secret and is never echoed."""
    bot_id, colon, secret = value.partition(":")
    if not colon:
        return f"got {len(value)} characters and no ':'"
    odd = "" if re.fullmatch(r"[A-Za-z0-9_-]*", secret) else ", some of them not allowed"
    digits = "digits" if bot_id.isdigit() else "characters, not all digits,"
    return f"got {len(bot_id)} {digits} before ':' and {len(secret)} characters after it{odd}"


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def get(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def secret(self, name: str) -> str | None:
        """`name`, else the contents of the file named by `name`_FILE (container secrets)."""
        value = self.get(name)
        file_name = self.get(name + "_FILE")
        if value is None and file_name is not None:
            try:
                value = Path(file_name).read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                raise ConfigError(
                    name + "_FILE", f"cannot read the file ({exc.strerror})"
                ) from None
        return value

    def token(self) -> str:
        name = "TELEGRAM_BOT_TOKEN"
        value = self.secret(name)
        if value is None:
            raise ConfigError(name, "missing (get one from @BotFather)")
        if not _TOKEN.match(value):
            raise ConfigError(
                name,
                f"does not look like a bot token: expected {TOKEN_SHAPE}, "
                f"like {TOKEN_EXAMPLE}; {_describe_token(value)}",
            )
        return value

    def url(self, name: str, default: str) -> str:
        value = self.get(name) or default
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(name, f"not an http(s) URL: {value!r}")
        return value

    def phone(self, name: str, default: str) -> str:
        value = self.get(name) or default
        if not _PHONE.match(value):
            raise ConfigError(name, f"not a phone number: {value!r}")
        return value

    def choice(
        self, name: str, default: str, allowed: tuple[str, ...], *, upper: bool = False
    ) -> str:
        value = self.get(name) or default
        value = value.upper() if upper else value.lower()
        if value not in allowed:
            raise ConfigError(name, f"must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def integer(self, name: str, default: int, low: int, high: int = 10**9) -> int:
        raw = self.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(name, f"not a whole number: {raw!r}") from None
        if not low <= value <= high:
            raise ConfigError(name, f"must be between {low} and {high}, not {value}")
        return value

    def path(self, name: str) -> Path | None:
        raw = self.get(name)
        return None if raw is None else Path(raw).expanduser()

    def existing_file(self, name: str) -> Path | None:
        raw = self.get(name)
        if raw is None:
            return None
        path = Path(raw).expanduser()
        if not path.is_file():
            raise ConfigError(name, f"no such file: {raw}")
        return path

    def webhook(self) -> WebhookSettings | None:
        url = self.get("PALSY_WEBHOOK_URL")
        if url is None:
            return None
        if urlsplit(url).scheme != "https" or not urlsplit(url).netloc:
            raise ConfigError("PALSY_WEBHOOK_URL", f"must be an https URL: {url!r}")
        secret = self.secret("PALSY_WEBHOOK_SECRET")
        if secret is None:
            raise ConfigError("PALSY_WEBHOOK_SECRET", "required when PALSY_WEBHOOK_URL is set")
        if not _SECRET.match(secret):
            raise ConfigError(
                "PALSY_WEBHOOK_SECRET",
                f"use 32-256 characters A-Z a-z 0-9 _ - (got {len(secret)}, "
                f"{'some not allowed' if re.search(r'[^A-Za-z0-9_-]', secret) else 'all allowed'});"
                f" {SECRET_HOW}",
            )
        return WebhookSettings(
            url=url,
            listen=self.get("PALSY_WEBHOOK_LISTEN") or "0.0.0.0",
            port=self.integer("PALSY_WEBHOOK_PORT", 8080, 1, 65535),
            secret=secret,
        )
