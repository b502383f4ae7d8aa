"""Telegram out of reach, at start or mid-run: plain lines, capped backoff, quick stop.

The real `palsy-bot` process against tests.support.fake_bot_api; "unreachable" is the fake server
stopped (its port on 127.0.0.1 closed), "back" is a new one on the same port.
"""

from __future__ import annotations

import io
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from telegram.error import NetworkError

from bot.app import RESEND_DELAYS_S
from bot.logging_setup import setup_logging
from bot.network import describe
from bot.runner import BACKOFF_CAP_S, backoff_s
from tests.support.bot_harness import TOKEN, RunningBot, bot_env, bot_process, preserved_logging
from tests.support.fake_bot_api import FakeBotApi, FakeUser, Fault
from tests.support.onnx_fixtures import build_tiny_classifier

SECRET = TOKEN.split(":", 1)[1]
STOP_WITHIN_S = 2.0
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) [\w.]+: ")


class Log:
    """The process's stderr, line by line, read in a thread; wait for a line by pattern."""

    def __init__(self, process: subprocess.Popen) -> None:  # type: ignore[type-arg]
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen) -> None:  # type: ignore[type-arg]
        assert process.stderr is not None
        for line in process.stderr:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait(self, pattern: str, count: int = 1, timeout: float = 60) -> list[str]:
        def found() -> list[str]:
            return [line for line in self.lines if re.search(pattern, line)]

        with self._cond:
            if not self._cond.wait_for(lambda: len(found()) >= count, timeout):
                raise AssertionError(f"no line {pattern!r} in:\n" + "\n".join(self.lines))
            return found()

    def all(self) -> list[str]:
        self._thread.join(10)
        return self.lines


def _stops_quickly(process: subprocess.Popen, sig: int) -> None:  # type: ignore[type-arg]
    asked = time.monotonic()
    process.send_signal(sig)
    try:
        code = process.wait(STOP_WITHIN_S)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"still running {STOP_WITHIN_S} s after {sig!r}") from None
    assert code == 0, f"exit status {code} after {time.monotonic() - asked:.2f} s"


def _plain(lines: list[str]) -> None:
    assert lines and all(LINE.match(line) for line in lines), "\n".join(lines)
    assert not [line for line in lines if "Traceback" in line or SECRET in line]


def _unreachable(api: FakeBotApi, delay: float) -> str:
    # "dropped": a long poll in flight when the server went away.
    where = re.escape(f"cannot reach the Bot API at {api.root}: ")
    return where + f"connection (refused|dropped); retrying in {delay:g} s$"


@pytest.fixture
def classifier(tmp_path: Path) -> Path:
    return build_tiny_classifier(tmp_path / "c.onnx", bias={"normal": 6.0})


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_unreachable_at_start_retries_in_plain_lines_and_stops_in_a_backoff(
    tmp_path: Path, classifier: Path, sig: int
) -> None:
    api = FakeBotApi(TOKEN).start()
    api.stop()  # its port is now closed: connection refused
    data = tmp_path / "data"
    process = bot_process(
        api, data, classifier, tmp_path, stderr=subprocess.PIPE, PALSY_LOG_LEVEL="INFO"
    )
    log = Log(process)
    try:
        for delay in (1, 2, 4):
            log.wait(_unreachable(api, delay))
    finally:
        _stops_quickly(process, sig)  # in the middle of the 4 s wait
    lines = log.all()
    _plain(lines)
    assert len(lines) <= 10, "\n".join(lines)
    assert not (data / "heartbeat").exists()  # `palsy-bot --alive` (HEALTHCHECK) says no


def test_api_gone_mid_run_then_back_then_stop_during_backoff(
    tmp_path: Path, classifier: Path
) -> None:
    data = tmp_path / "data"
    user = FakeUser(31)
    with FakeBotApi(TOKEN) as api:
        process = bot_process(
            api, data, classifier, tmp_path, stderr=subprocess.PIPE, PALSY_LOG_LEVEL="INFO"
        )
        log = Log(process)
        api.wait_for(lambda calls: [c for c in calls if c.method == "setMyCommands"], 60)
        # Polling starts by deleting any webhook: Telegram refuses getUpdates while one is set.
        assert api.calls("deleteWebhook")
        log.wait("Application started")
        port = int(api.root.rsplit(":", 1)[1])
    try:
        for delay in (1, 2):
            log.wait(_unreachable(api, delay))
        with FakeBotApi(TOKEN, port=port) as back:
            log.wait(re.escape(f"reached the Bot API at {back.root} again"))
            assert back.command(user, "/start").text  # polling again: it answers
            back.wait_messages(user.id, 2)  # and asks whom the checks are for
        log.wait(_unreachable(api, 2), count=2)  # the second outage: in its 2 s wait now
    finally:
        _stops_quickly(process, signal.SIGTERM)
    lines = log.all()
    _plain(lines)
    assert len(lines) <= 20, "\n".join(lines)


def test_refused_token_exits_2_with_one_line(tmp_path: Path, classifier: Path) -> None:
    other = "654321:" + "r" * 35
    with FakeBotApi(other) as api:  # the server knows another token: 401 for ours
        process = bot_process(
            api,
            tmp_path / "data",
            classifier,
            tmp_path,
            stderr=subprocess.PIPE,
            TELEGRAM_BOT_TOKEN=TOKEN,
        )
        log = Log(process)
        assert process.wait(60) == 2
    lines = log.all()
    assert lines == [
        "palsy-bot: configuration error: TELEGRAM_BOT_TOKEN: the Bot API at "
        f"{api.root} refused it (revoked or mistyped? @BotFather shows it)"
    ]


def test_backoff_doubles_up_to_the_cap() -> None:
    delays = [backoff_s(n) for n in range(1, 10)]
    assert delays[:5] == [1, 2, 4, 8, 16]
    assert max(delays) == BACKOFF_CAP_S == delays[-1]
    assert delays == sorted(delays)


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_describe_names_the_cause_in_words() -> None:
    try:
        httpx.get(f"http://127.0.0.1:{_refused_port()}/", timeout=5)
    except httpx.HTTPError as exc:
        refused = exc
    assert describe(refused) == "connection refused"
    # As python-telegram-bot wraps httpx's error for a name that does not resolve:
    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as cause:
            raise httpx.ConnectError(str(cause)) from cause
    except httpx.ConnectError as inner:
        wrapped = NetworkError(f"httpx.ConnectError: {inner}")
        wrapped.__cause__ = inner
    assert describe(wrapped) == "name not resolved"
    assert describe(NetworkError("Bad Gateway")) == "it answered 'Bad Gateway'"


def test_a_reply_that_cannot_be_delivered_is_one_line_at_info(tmp_path: Path) -> None:
    stream = io.StringIO()
    classifier = build_tiny_classifier(tmp_path / "c.onnx")
    with preserved_logging(), FakeBotApi(TOKEN) as api:
        setup_logging("INFO", [TOKEN], stream)
        with RunningBot(bot_env(api, tmp_path / "data", classifier)):
            # Every send of the /start answer meets a 502 (first try and each resend).
            api.inject("sendMessage", *[Fault.server_error()] * (len(RESEND_DELAYS_S) + 1))
            api.send_text(FakeUser(5), "/start")
            api.wait_for(lambda _: len(api.faults_served) == len(RESEND_DELAYS_S) + 1)
            api.wait_for(lambda calls: api.calls("sendMessage", 5))  # the apology after it
    lines = stream.getvalue().splitlines()
    failed = [line for line in lines if "cannot reach the Bot API" in line]
    assert len(failed) == 1 and re.search(r"error in update \d+: .*Bad Gateway", failed[0])
    assert not [line for line in lines if "Traceback" in line]
