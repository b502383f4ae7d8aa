"""Load without loss: N photos through the real `palsy-bot` process and the fake Bot API.

    .venv/bin/python -m bench.load_no_loss [--photos 2000] [--users 20] [--model PATH]

K simulated users each send their next photo when the last is answered, until N photos were
sent. Then the bot is stopped (SIGINT, as an operator would) and the database is read. Checks,
exit 1 if any fails:
- every photo got exactly one reply (`sendMessage` replying to it);
- database rows == photos sent, one row per photo, none duplicated, spool empty;
- resident memory flat: the RSS after the last tenth of photos is within `--rss-slack-mb`
  of the RSS after the first tenth (both printed; `start` is after warm-up).

Prints the machine, photos per second, p50/p95 from update to reply and the RSS samples.
Photos: as bench.bot_throughput (London faces at 1280 px, so every photo runs the whole pipeline).
"""

from __future__ import annotations

import argparse
import atexit
import itertools
import json
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.bot_throughput import (
    RssSampler,
    _status_kb,
    bench_model,
    load_photos,
    summary,
)
from bench.pipeline import machine
from model.decision.grader import DEFAULT_GRADER
from tests.support.bot_harness import TOKEN, bot_process
from tests.support.fake_bot_api import FakeBotApi, FakeUser

REPO = Path(__file__).resolve().parents[1]

WARMUP_PHOTOS = 6


class Load:
    """K users in closed loop sharing one budget of N photos; RSS sampled every tenth."""

    def __init__(self, api: FakeBotApi, photos: list[bytes], total: int, pid: int) -> None:
        self.api, self.photos, self.total, self.pid = api, photos, total, pid
        self.sent: list[int] = []
        self.rss_kb: list[tuple[int, int]] = []  # (photos answered, RSS)
        self._lock = threading.Lock()
        self._reserved = 0
        self._answered = 0

    def _next(self) -> bool:
        with self._lock:
            self._reserved += 1
            return self._reserved <= self.total

    def user(self, user: FakeUser) -> None:
        for i in itertools.count():
            if not self._next():
                return
            message_id = self.api.send_photo(user, self.photos[(user.id + i) % len(self.photos)])
            with self._lock:
                self.sent.append(message_id)
            self.api.wait_reply(message_id, timeout=300)
            with self._lock:
                self._answered += 1
                if self._answered % max(1, self.total // 10) == 0:
                    self.rss_kb.append((self._answered, _status_kb(self.pid, "VmRSS")))

    def run(self, users: int, first_id: int) -> float:
        threads = [
            threading.Thread(target=self.user, args=(FakeUser(first_id + u),)) for u in range(users)
        ]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - start


def database_ids(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT id FROM screenings")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--rss-slack-mb", type=float, default=20.0)
    args = parser.parse_args()

    photos, photo_note = load_photos(20)
    tmp = Path(tempfile.mkdtemp(prefix="bot-load-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    model, model_note = bench_model(args.model, tmp)
    data_dir = tmp / "data"

    with FakeBotApi(TOKEN) as api:
        bot = bot_process(api, data_dir, model, tmp, PALSY_GRADER_PATH=str(DEFAULT_GRADER))
        sampler = RssSampler(bot.pid)
        sampler.start()
        try:
            api.wait_for(lambda calls: any(c.method == "deleteWebhook" for c in calls), 120)
            warm = Load(api, photos, WARMUP_PHOTOS, bot.pid)
            warm.run(2, first_id=1)
            load = Load(api, photos, args.photos, bot.pid)
            rss_start_kb = _status_kb(bot.pid, "VmRSS")
            seconds = load.run(args.users, first_id=1000)
            rss_end_kb = _status_kb(bot.pid, "VmRSS")
            peak_kb = sampler.high_water_kb()
        finally:
            sampler.stop_flag.set()
            bot.send_signal(signal.SIGINT)
            exit_code = bot.wait(120)
        sent = warm.sent + load.sent
        replies = [c.reply_to for c in api.calls("sendMessage") if c.reply_to is not None]
        latencies = [api.latency(m) for m in load.sent]

    ids = database_ids(data_dir / "palsy.sqlite3")
    spool = data_dir / "spool.jsonl"
    spooled = spool.read_text().count("\n") if spool.exists() else 0
    reply_counts = {m: replies.count(m) for m in set(replies)}
    checks = {
        "one_reply_per_photo": all(reply_counts.get(m) == 1 for m in sent)
        and len(replies) == len(sent),
        "rows_equal_photos": len(ids) == len(sent),
        "no_duplicate_rows": len(set(ids)) == len(ids),
        "spool_empty": spooled == 0,
        "bot_exit_0": exit_code == 0,
        "rss_flat": abs(rss_end_kb - load.rss_kb[0][1]) / 1024 <= args.rss_slack_mb,
    }
    figures = {
        "machine": machine(),
        "photos": photo_note,
        "classifier": model_note,
        "users": args.users,
        "photos_sent": len(sent),
        "replies": len(replies),
        "database_rows": len(ids),
        "spooled_left": spooled,
        "seconds": round(seconds, 1),
        "photos_per_s": round(len(load.sent) / seconds, 1),
        "latency": summary([lat for lat in latencies if lat is not None]),
        "rss_mb": {
            "start_after_warmup": round(rss_start_kb / 1024, 1),
            "after_first_tenth": round(load.rss_kb[0][1] / 1024, 1),
            "end": round(rss_end_kb / 1024, 1),
            "peak": round(peak_kb / 1024, 1),
            "by_photos_answered": {n: round(kb / 1024, 1) for n, kb in load.rss_kb},
        },
        "checks": checks,
    }
    print(json.dumps(figures, indent=2))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
