"""The bot token never reaches the logs: httpx is quiet, the filter redacts what gets through."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.logging_setup import REDACTED, RedactFilter, setup_logging
from tests.support.bot_harness import TOKEN, RunningBot, bot_env, preserved_logging
from tests.support.fake_bot_api import FakeBotApi, FakeUser
from tests.support.onnx_fixtures import build_tiny_classifier

SECRET_PART = TOKEN.split(":", 1)[1]
NAME = "Sunita Verma-Secretname"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    with preserved_logging():
        yield


def _run_bot(tmp_path: Path, *, httpx_level: int | None) -> str:
    stream = io.StringIO()
    setup_logging("DEBUG", [TOKEN], stream)
    if httpx_level is not None:  # as if someone turned httpx back on
        logging.getLogger("httpx").setLevel(httpx_level)
    classifier = build_tiny_classifier(tmp_path / "c.onnx")
    with FakeBotApi(TOKEN) as api:
        with RunningBot(bot_env(api, tmp_path / "data", classifier)):
            user = FakeUser(77, first_name=NAME)
            api.wait_reply(api.send_photo(user, b"not an image"))  # downloads a file URL
            # And a failing update, so a traceback is logged too.
            api.send_message(user, photo=[{"file_id": "gone", "file_unique_id": "g", "width": 1,
                                           "height": 1}])  # fmt: skip
            api.wait_for(lambda calls: len(api.calls("sendMessage", user.id)) >= 2)
    return stream.getvalue()


def test_token_absent_from_logs_of_a_real_run(tmp_path: Path, restore_logging: None) -> None:
    logs = _run_bot(tmp_path, httpx_level=None)
    assert "Application started" in logs and "download failed" in logs and "Traceback" in logs
    assert "HTTP Request" not in logs  # httpx silenced
    assert SECRET_PART not in logs and quote(TOKEN, safe="") not in logs
    assert NAME not in logs  # the error handler logs no personal data


def test_httpx_request_lines_are_redacted_if_enabled(tmp_path: Path, restore_logging: None) -> None:
    logs = _run_bot(tmp_path, httpx_level=logging.INFO)
    request_lines = [line for line in logs.splitlines() if "HTTP Request" in line]
    # httpx did log the Bot API URLs, including the file download with ':' as %3A.
    assert any(f"/bot{REDACTED}/getMe" in line for line in request_lines)
    assert any(f"/file/bot{REDACTED}/" in line for line in request_lines)
    assert SECRET_PART not in logs


def test_filter_redacts_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactFilter([TOKEN]))
    logger = logging.getLogger("tests.redact")
    logger.addHandler(handler)
    try:
        url = f"https://api.telegram.org/file/bot{quote(TOKEN, safe='')}/x.jpg"
        logger.error("GET %s", url)
        try:
            raise RuntimeError(f"failed: https://api.telegram.org/bot{TOKEN}/getMe")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert SECRET_PART not in out and out.count(REDACTED) == 2
