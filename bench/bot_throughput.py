"""Bot latency and throughput on loopback: the real `palsy-bot` process against the fake Bot API.

    .venv/bin/python -m bench.bot_throughput [--users 20] [--photos 10] [--single 40]

Measures, from the moment an update is available to getUpdates until the bot's reply arrives
at the fake server (so it includes long polling, getFile, the download, screening, sendMessage):
- one user sending photos one after another: p50 and p95;
- K users at once, each sending the next photo when the last is answered: photos per second,
  p50 and p95;
- the bot process's resident memory (peak, from /proc);
- start-up: launch to polling on a new database, and on a restart (the database at its head),
  with the answer to a photo that was already waiting.

Photos: London neutral faces re-encoded as Telegram does (longest side 1280, JPEG), so every
photo runs the whole pipeline. The grader is the shipped one, as deployed: it gives the CNN no
weight, so the CNN is loaded (the bundled default when present, else the tiny test classifier:
says which) but not run. Telegram's 30 messages a second cap is enforced inside the bot (PTB's
AIORateLimiter), as in production; the per-user photo limit is lifted for the run.
"""

from __future__ import annotations

import argparse
import atexit
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

from model.cnn.classifier import DEFAULT_CLASSIFIER as DEFAULT_MODEL
from model.decision.grader import DEFAULT_GRADER
from tests.support.bot_harness import TOKEN, bot_process
from tests.support.fake_bot_api import Call, FakeBotApi, FakeUser
from tests.support.onnx_fixtures import build_tiny_classifier

REPO = Path(__file__).resolve().parents[1]

LONDON = REPO.parent / "shared" / "data" / "faces" / "london" / "neutral"


def bench_model(chosen: Path | None, tmp: Path) -> tuple[Path, str]:
    """The classifier to benchmark: the one asked for, else the shipped one, else a tiny one."""
    model = chosen or (DEFAULT_MODEL if DEFAULT_MODEL.is_file() else None)
    if model is not None:
        return model, str(model)
    tiny = build_tiny_classifier(tmp / "tiny.onnx", bias={"normal": 6.0})
    return tiny, f"tiny test classifier ({DEFAULT_MODEL.name} absent)"


def telegram_jpeg(path: Path, longest: int = 1280) -> bytes:
    image = Image.open(path).convert("RGB")
    image.thumbnail((longest, longest))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=87)
    return out.getvalue()


def load_photos(count: int) -> tuple[list[bytes], str]:
    paths = sorted(LONDON.glob("*_03.jpg"))[:count]
    if paths:
        return [telegram_jpeg(p) for p in paths], f"{len(paths)} London neutral faces, 1280 px"
    # No face set: gradient images, which stop at the face detector (a cheaper path).
    ramp = Image.linear_gradient("L").resize((1280, 960)).convert("RGB")
    out = io.BytesIO()
    ramp.save(out, "JPEG", quality=87)
    return [out.getvalue()], "synthetic no-face 1280x960 (London set absent: cheaper path)"


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.stop_flag = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop_flag.wait(0.1):
            self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmRSS"))

    def high_water_kb(self) -> int:
        return max(self.peak_kb, _status_kb(self.pid, "VmHWM"))


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def user_loop(api: FakeBotApi, user: FakeUser, photos: list[bytes], n: int, out: list) -> None:  # type: ignore[type-arg]
    for i in range(n):
        message_id = api.send_photo(user, photos[(user.id + i) % len(photos)])
        api.wait_reply(message_id, timeout=120)
        out.append(api.latency(message_id))


def run_users(api: FakeBotApi, photos: list[bytes], users: int, each: int, first_id: int):  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    threads = [
        threading.Thread(
            target=user_loop, args=(api, FakeUser(first_id + u), photos, each, latencies)
        )
        for u in range(users)
    ]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.monotonic() - start


def open_loop(api: FakeBotApi, photos: list[bytes], rate: float, seconds: float, first_id: int):  # type: ignore[no-untyped-def]
    """Photos from 100 users arriving at random, like real traffic: exactly `rate` x `seconds`
    arrivals at uniform random times (a Poisson process given its count, so the offered rate is
    exact). Returns latencies and the rates: offered, served (replies / first arrival to last
    reply) and how many were still unanswered at the last arrival."""
    rng = random.Random(0)
    offsets = sorted(rng.uniform(0, seconds) for _ in range(round(rate * seconds)))
    sent: list[int] = []
    start = time.monotonic()
    for offset in offsets:
        time.sleep(max(0.0, start + offset - time.monotonic()))
        user = FakeUser(first_id + len(sent) % 100)
        sent.append(api.send_photo(user, photos[len(sent) % len(photos)]))
    for message_id in sent:
        api.wait_reply(message_id, timeout=120)
    latencies = [_known(api.latency(m)) for m in sent]
    queued = [_known(api.queued_at(m)) for m in sent]
    answered = [q + lat for q, lat in zip(queued, latencies, strict=True)]
    first, last = queued[0], queued[-1]
    rates = {
        "offered_per_s": round(len(sent) / (last - first), 1),
        "served_per_s": round(len(sent) / (max(answered) - first), 1),
        "unanswered_at_last_arrival": sum(1 for a in answered if a > last),
    }
    return latencies, rates


def _polling(api: FakeBotApi, earlier: int) -> Call:
    """The bot's deleteWebhook after `earlier` of them: its polling begins."""

    def began(calls: list[Call]) -> Call | None:
        seen = [c for c in calls if c.method == "deleteWebhook"]
        return seen[earlier] if len(seen) > earlier else None

    return api.wait_for(began, 120, "polling")


def _known(value: float | None) -> float:
    assert value is not None, "every photo was answered (wait_reply)"
    return value


def pipeline_timings(database: Path) -> dict[str, float]:
    """Median wall time of each Screener stage, from the timings the bot logged per screening."""
    with sqlite3.connect(database) as connection:
        query = "SELECT timings_ms FROM screenings"
        rows = [json.loads(t) for (t,) in connection.execute(query)]
    rows = [row for row in rows if "grade" in row]  # photos that went the whole way
    stages = {stage for row in rows for stage in row}
    return {
        stage: round(statistics.median(row[stage] for row in rows if stage in row), 1)
        for stage in sorted(stages)
    }


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "photos": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--photos", type=int, default=10, help="photos per concurrent user")
    parser.add_argument("--single", type=int, default=40, help="photos for the one-user run")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument(
        "--rates", default="5,10", help="open-loop arrival rates (photos/s), comma-separated"
    )
    parser.add_argument("--seconds", type=float, default=10, help="length of each open-loop run")
    args = parser.parse_args()

    photos, photo_note = load_photos(20)
    tmp = Path(tempfile.mkdtemp(prefix="bot-bench-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    model, model_note = bench_model(args.model, tmp)

    settings = {"PALSY_GRADER_PATH": str(DEFAULT_GRADER)}
    with FakeBotApi(TOKEN) as api:
        # First start: a new database (Alembic creates the schema); then stopped.
        launched = time.monotonic()
        bot = bot_process(api, tmp / "data", model, tmp, **settings)
        startup = {"first_start_polling_s": round(_polling(api, 0).at - launched, 2)}
        bot.send_signal(signal.SIGINT)
        bot.wait(60)
        # The restart, measured on: a photo already waits; start-up is launch -> its answer.
        waiting = api.send_photo(FakeUser(0), photos[0])
        launched = time.monotonic()
        bot = bot_process(api, tmp / "data", model, tmp, **settings)
        sampler = RssSampler(bot.pid)
        sampler.start()
        try:
            startup["restart_polling_s"] = round(_polling(api, 1).at - launched, 2)
            startup["restart_first_answer_s"] = round(api.wait_reply(waiting, 120).at - launched, 2)
            run_users(api, photos, 2, 3, first_id=1)  # warm-up: every code path once
            idle_kb = _status_kb(bot.pid, "VmRSS")
            single, _ = run_users(api, photos, 1, args.single, first_id=100)
            bot_cpu0, bench_cpu0 = _cpu_s(bot.pid), _own_cpu_s()
            many, seconds = run_users(api, photos, args.users, args.photos, first_id=1000)
            bot_cpu, bench_cpu = _cpu_s(bot.pid) - bot_cpu0, _own_cpu_s() - bench_cpu0
            # The bot without the screening cost: photos that fail to decode at once, so what is
            # left is PTB, HTTP, the download, the reply and the result log.
            cpu0 = _cpu_s(bot.pid)
            junk = [b"not a picture" * 1000]
            bare, bare_s = run_users(api, junk, args.users, args.photos * 2, first_id=5000)
            bare_cpu = _cpu_s(bot.pid) - cpu0
            paced = {
                rate: open_loop(api, photos, rate, args.seconds, first_id=10_000 * (i + 1))
                for i, rate in enumerate(float(r) for r in args.rates.split(","))
            }
            peak_kb = sampler.high_water_kb()
        finally:
            sampler.stop_flag.set()
            bot.send_signal(signal.SIGINT)
            bot.wait(60)

    figures = {
        "photos": photo_note,
        "classifier": model_note,
        "cpus": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
        # Launch -> polling (models loaded, database migrated): a first start on a new database,
        # and a restart, with the launch -> answer of a photo that waited for it.
        "startup": startup,
        "one_user": summary(single),
        f"{args.users}_users": {
            **summary(many),
            "photos_per_s": round(len(many) / seconds, 1),
            # CPU time per photo: the bot, and this process (fake server, simulated users).
            "bot_cpu_ms_per_photo": round(bot_cpu / len(many) * 1000, 1),
            "bench_cpu_ms_per_photo": round(bench_cpu / len(many) * 1000, 1),
        },
        "bot_without_screening": {
            **summary(bare),
            "photos_per_s": round(len(bare) / bare_s, 1),
            "bot_cpu_ms_per_photo": round(bare_cpu / len(bare) * 1000, 1),
        },
        "open_loop": {
            f"{rate:g}/s": {**summary(lat), **rates} for rate, (lat, rates) in paced.items()
        },
        "pipeline_ms_median": pipeline_timings(tmp / "data" / "palsy.sqlite3"),
        "rss_mb": {"after_warmup": round(idle_kb / 1024, 1), "peak": round(peak_kb / 1024, 1)},
    }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
