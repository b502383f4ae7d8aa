"""Several real `palsy-bot` processes in webhook mode behind one loopback dispatcher, as a
deployment runs them behind a reverse proxy.

The fake Bot API queues what users do; the `Dispatcher` plays Telegram's webhook side: it takes
each update and POSTs it, with the secret, to a replica, each in its own thread (Telegram keeps
several connections open), so one user's updates are spread across replicas (round robin per
user) and may be handled at once. A user can be pinned to one replica; a replica that does not
answer (killed) is skipped for the next, as Telegram retries an update.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.bot_harness import bot_process
from tests.support.fake_bot_api import FakeBotApi

WEBHOOK_URL = "https://bot.example.org/telegram/hook"
WEBHOOK_SECRET = "replica-test-secret-" + "0123456789abcdef" * 2  # 52 characters
START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Replica:
    """One `palsy-bot` process in webhook mode; its log goes to a file."""

    def __init__(
        self, name: str, api: FakeBotApi, root: Path, classifier: Path, **env: str
    ) -> None:
        self.name = name
        self.port = free_port()
        self.data = root / f"data-{name}"
        self.log_path = root / f"{name}.log"
        self._log = self.log_path.open("w")
        self.process: subprocess.Popen[str] = bot_process(
            api,
            self.data,
            classifier,
            cwd=root,
            stderr=self._log.fileno(),
            PALSY_WEBHOOK_URL=WEBHOOK_URL,
            PALSY_WEBHOOK_SECRET=WEBHOOK_SECRET,
            PALSY_WEBHOOK_LISTEN="127.0.0.1",
            PALSY_WEBHOOK_PORT=str(self.port),
            **env,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram/hook"

    def wait_listening(self, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"replica {self.name} exited: {self.log()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # readiness probe of a server starting in another process

    def kill(self) -> None:
        """As a crash: SIGKILL, nothing flushed."""
        self.process.kill()
        self.process.wait(30)

    def stop(self) -> int:
        """As `docker stop`: SIGTERM; it answers what it has and writes what it holds."""
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(60)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        self._log.close()


class Dispatcher:
    def __init__(self, api: FakeBotApi, replicas: list[Replica]) -> None:
        self.api, self.replicas = api, replicas
        self._turns: dict[int, int] = defaultdict(int)
        self._pinned: dict[int, int] = {}
        self._lock = threading.Lock()
        # (user id, update id, replica name) of every update delivered, in delivery order.
        self.delivered: list[tuple[int, int, str]] = []
        self._stop = threading.Event()
        self._posts: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._run, name="dispatcher", daemon=True)

    def start(self) -> Dispatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        for post in self._posts:
            post.join(10)

    @contextlib.contextmanager
    def pinned(self, user_id: int, replica: int) -> Iterator[None]:
        """This user's updates go to one replica (while it answers) until the block ends."""
        with self._lock:
            self._pinned[user_id] = replica
        try:
            yield
        finally:
            with self._lock:
                self._pinned.pop(user_id, None)

    def went_to(self, user_id: int) -> list[str]:
        with self._lock:
            return [name for user, _, name in self.delivered if user == user_id]

    def _run(self) -> None:
        while not self._stop.is_set():
            for update in self.api.take_updates(timeout=0.2):
                user = _user_of(update)
                with self._lock:
                    first = self._pinned.get(user)
                    if first is None:
                        first = self._turns[user] % len(self.replicas)
                        self._turns[user] += 1
                post = threading.Thread(target=self._post, args=(update, user, first), daemon=True)
                self._posts.append(post)
                post.start()

    def _post(self, update: dict[str, Any], user: int, first: int) -> None:
        body = json.dumps(update).encode()
        order = self.replicas[first:] + self.replicas[:first]
        for replica in order:
            request = urllib.request.Request(
                replica.url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    if response.status == 200:
                        with self._lock:
                            self.delivered.append((user, update["update_id"], replica.name))
                        return
            except (urllib.error.URLError, OSError):
                continue  # down: Telegram tries again, here the next replica
        raise RuntimeError(f"no replica took update {update['update_id']}")


def _user_of(update: dict[str, Any]) -> int:
    part = update.get("message") or update.get("callback_query") or {}
    return int(part["from"]["id"])
