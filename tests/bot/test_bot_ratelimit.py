"""Per-user sliding-window rate limit, on a fake clock."""

from __future__ import annotations

from bot.ratelimit import RateLimiter


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
