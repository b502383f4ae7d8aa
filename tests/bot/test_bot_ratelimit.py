"""Per-user sliding-window rate limit, on a fake clock."""

from __future__ import annotations

from pathlib import Path

from telegram import User

from bot.app import create_services
from bot.config import BotSettings
from bot.handlers.limit import duration, per
from bot.i18n import Texts
from bot.ratelimit import RateLimiter
from db.settings import DbSettings
from tests.support.onnx_fixtures import build_tiny_classifier, passthrough_screener


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_window_notifies_once_and_frees_up() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=3, window_s=60, clock=clock)
    for _ in range(3):
        assert limiter.hit(1).allowed
        clock.now += 10
    first, second = limiter.hit(1), limiter.hit(1)  # at t=30
    assert not first.allowed and first.notify
    assert not second.allowed and not second.notify
    assert first.retry_after_whole_s == 30  # the photo at t=0 leaves the window at t=60
    assert limiter.hit(2).allowed  # other users are not affected
    clock.now += 30
    assert limiter.hit(1).allowed
    refused = limiter.hit(1)
    assert not refused.allowed and refused.notify  # a new episode: say it again
    assert refused.retry_after_whole_s == 10


def test_idle_users_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=1, window_s=10, clock=clock)
    for user in range(100):
        limiter.hit(user)
    clock.now += 11
    limiter.hit(1000)
    assert len(limiter._windows) == 1


def test_waits_and_windows_are_said_in_words_with_their_plural() -> None:
    en, hi = Texts("en"), Texts("hi")
    assert [duration(en, s) for s in (0.2, 1, 53, 60, 61, 600)] == [
        "1 second", "1 second", "53 seconds", "1 minute", "2 minutes", "10 minutes",
    ]  # fmt: skip
    assert [per(en, s) for s in (1, 2, 60, 600)] == [
        "a second", "every 2 seconds", "a minute", "every 10 minutes",
    ]  # fmt: skip
    assert duration(hi, 53) == "53 सेकंड" and per(hi, 60) == "हर मिनट"


def test_the_not_checked_line_comes_at_most_every_few_seconds(tmp_path: Path) -> None:
    # Reactions mark every photo past the limit; where Telegram refuses one, a line says it,
    # but not for every photo of a burst.
    services = create_services(
        BotSettings(token="1:" + "a" * 35), DbSettings.from_env({"PALSY_DATA_DIR": str(tmp_path)}),
        screener=passthrough_screener(build_tiny_classifier(tmp_path / "c.onnx")),
    )  # fmt: skip
    try:
        user = User(7, "Test", is_bot=False)
        assert services.may_say_not_checked(user)
        assert not services.may_say_not_checked(user)  # a burst: once per SEEN_LINE_EVERY_S
        assert services.may_say_not_checked(User(8, "Other", is_bot=False))
    finally:
        services.screening.close()
        services.results.engine.dispose()
