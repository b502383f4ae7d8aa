"""Runs the real palsy-bot Application (long polling) in a thread against the fake Bot API.

Shared by the bot e2e tests and bench/bot_throughput.py:

    with FakeBotApi(TOKEN) as api, RunningBot(api, tmp_dir, classifier) as bot:
        msg = api.send_photo(user, jpeg)
        api.wait_reply(msg)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from telegram.ext import Application

from bot import callbacks
from bot.app import build_application, create_services
from bot.callbacks import Buttons
from bot.config import BotSettings
from bot.runner import run, stop
from bot.screening import ScreenerLike
from bot.services import Services
from db.log import ResultLog
from db.settings import DbSettings
from tests.support.fake_bot_api import Call, FakeBotApi
from tests.support.onnx_fixtures import build_passthrough_grader

TOKEN = "123456:TEST-token_abcdefghijklmnop"
PEPPER = "test-pepper-0123456789abcdef"
POLL_TIMEOUT_S = 5
# The bots under test sign their buttons under PEPPER: tests read them (and make forged ones).
BUTTONS = Buttons.from_pepper(PEPPER.encode())


def legible(user_id: int, data: str) -> str:
    """What a button of `user_id` means, in words tests can match: "onset:n:d", "exam:go:<id>",
    "lang:hi:r", "who:self", "forget:all", "details:<id>"; "" for data that does not parse."""
    press = BUTTONS.parse(user_id, data)
    if isinstance(press, callbacks.Onset):
        began = press.began.value[0] if press.began else "-"
        return f"onset:{press.sudden.value[0]}:{began}"
    if isinstance(press, callbacks.ExamButton):
        what = "go" if isinstance(press, callbacks.ExamGo) else "skip"
        return f"exam:{what}:{press.exam_id}"
    if isinstance(press, callbacks.Language):
        return f"lang:{press.code}:{press.where}"
    if isinstance(press, callbacks.WhoFor):
        return f"who:{press.who.value}"
    if isinstance(press, callbacks.Forget):
        return f"forget:{press.choice}"
    if isinstance(press, callbacks.Details):
        return f"details:{press.record_id}"
    return ""


def kinds(call: Call) -> list[str]:
    """The meaning of each button under the bot's message `call` (see `legible`)."""
    return [legible(call.chat_id or 0, data) for _, data in call.buttons()]


def button(call: Call, prefix: str) -> str:
    """The data of the button under the bot's message `call` whose meaning starts with
    `prefix` (see `legible`; a private chat's id is its user's)."""
    chat = call.chat_id or 0
    return next(data for _, data in call.buttons() if legible(chat, data).startswith(prefix))


def bot_env(api: FakeBotApi, data_dir: Path, classifier: Path, **extra: str) -> dict[str, str]:
    """Settings as a deployment would give them, pointing at the fake server. Unless `extra`
    names a grader, the CNN decides (a tiny classifier's bias picks the finding): a pass-through
    grader is written beside `data_dir`, never beside the classifier (it may be a shipped one)."""
    env = {
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "TELEGRAM_FILE_BASE_URL": api.file_base_url,
        "PALSY_DATA_DIR": str(data_dir),
        "PALSY_PEPPER": PEPPER,
        "PALSY_MODEL_PATH": str(classifier),
        **extra,
    }
    if "PALSY_GRADER_PATH" not in extra:
        grader = data_dir.parent / f"{data_dir.name}.{classifier.stem}.grader.json"
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        env["PALSY_GRADER_PATH"] = str(build_passthrough_grader(grader))
    return env


def bot_process(
    api: FakeBotApi,
    data_dir: Path,
    classifier: Path,
    cwd: Path,
    stderr: int | None = None,
    **extra: str,
) -> subprocess.Popen:  # type: ignore[type-arg]
    """The real `palsy-bot` process (as deployed) against the fake server; no per-user limit.
    `extra` settings override the defaults; `stderr=subprocess.PIPE` to read its log (text)."""
    env = {
        **os.environ,
        "PALSY_RATE_LIMIT_PHOTOS": "1000000",
        "PALSY_LOG_LEVEL": "WARNING",
        **bot_env(api, data_dir, classifier, **extra),
    }
    script = str(Path(sys.executable).with_name("palsy-bot"))
    return subprocess.Popen([script], env=env, cwd=cwd, stderr=stderr, text=True)


@contextlib.contextmanager
def preserved_logging() -> Iterator[None]:
    """Undo what bot.logging_setup does to the root logger (pytest's handlers live there)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = ("httpx", "httpcore", "telegram", "alembic.runtime.plugins")
    levels = {name: logging.getLogger(name).level for name in names}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)


class RunningBot:
    """The bot (bot.runner.run, long polling unless the settings name a webhook) in its own
    thread and event loop, stopped on exit."""

    def __init__(
        self,
        env: Mapping[str, str],
        screener: ScreenerLike | None = None,
        start_timeout: float = 30.0,
        result_log: Callable[[DbSettings], ResultLog] | None = None,
    ) -> None:
        """`result_log` builds the ResultLog instead of the default (fault tests: fast retries,
        a chosen engine)."""
        self.settings = BotSettings.from_env(env)
        self.db_settings = DbSettings.from_env(env)
        results = result_log(self.db_settings) if result_log is not None else None
        self.services: Services = create_services(
            self.settings, self.db_settings, screener, results
        )
        self.app = build_application(self.services)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bot", daemon=True)
        self._start_timeout = start_timeout

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        original = self.app.post_init

        async def post_init(app: Application) -> None:  # type: ignore[type-arg]
            if original is not None:
                await original(app)
            self._started.set()

        self.app.post_init = post_init
        polling = {"poll_interval": 0, "timeout": POLL_TIMEOUT_S}
        try:
            run(
                self.app,
                self.settings,
                stop_signals=None,
                close_loop=True,
                **({} if self.settings.webhook else polling),
            )
        except BaseException as exc:
            self._error = exc
            self._started.set()

    def start(self) -> RunningBot:
        self._thread.start()
        if not self._started.wait(self._start_timeout) or self._error is not None:
            raise RuntimeError(f"bot did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread.is_alive():
            stop(self.app, self._loop)  # as a stop signal: whatever it is doing, it stops
        self._thread.join(30)
        if self._error is not None:
            raise self._error
        if self._thread.is_alive():
            raise RuntimeError("the bot did not stop within 30 s")

    def __enter__(self) -> RunningBot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
