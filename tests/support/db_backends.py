"""Database backends for the db tests: SQLite always, PostgreSQL whenever one is configured.

PostgreSQL comes from PALSY_TEST_POSTGRES_URL (`.ci/postgres.sh` sets it). Without it the
PostgreSQL cases skip, unless PALSY_REQUIRE_POSTGRES is set (CI), where they fail instead.
Each PostgreSQL test gets its own schema, so concurrent runs never collide.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from db.engine import make_engine
from db.log import ResultLog
from db.records import OnsetAnswer, ScreeningRecord
from db.settings import DbSettings

POSTGRES_ENV = "PALSY_TEST_POSTGRES_URL"
REQUIRE_ENV = "PALSY_REQUIRE_POSTGRES"
TEST_PEPPER = "test-pepper-0123456789abcdef"
# Fast retries: tests exercise the paths, not the production delays.
FAST: dict[str, Any] = {"retry_delays_s": (0.01, 0.02), "replay_interval_s": 0.05}


@dataclass
class Backend:
    name: str
    url: URL
    data_dir: Path
    logs: list[ResultLog] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)

    def settings(self, url: URL | None = None, **changes: Any) -> DbSettings:
        target = url if url is not None else self.url
        base = DbSettings(
            data_dir=self.data_dir,
            database_url=target.render_as_string(hide_password=False),
            pepper=TEST_PEPPER,
        )
        return replace(base, **changes)

    def log(self, settings: DbSettings | None = None, *, start: bool = True) -> ResultLog:
        """A ResultLog with fast retries, closed at teardown."""
        result_log = ResultLog(settings or self.settings(), **FAST)
        self.logs.append(result_log)
        if start:
            result_log.start()
        return result_log

    def broken(self) -> tuple[URL, Callable[[], None]]:
        """A URL whose database is unreachable now, and a function that brings it up."""
        if self.name == "sqlite":
            missing = self.data_dir / "not-yet"
            url = self.url.set(database=str(missing / "palsy.sqlite3"))
            return url, lambda: missing.mkdir()
        gate = Gate(self.url.host or "127.0.0.1", self.url.port or 5432)
        self.gates.append(gate)
        return self.url.set(host="127.0.0.1", port=gate.port), gate.open

    def cut_off(self, data_dir: Path) -> tuple[ResultLog, Callable[[], None]]:
        """Another replica's log on this same database (its own data directory), cut off from
        the database now: its writes are spooled, and written only when it is reconnected
        (the function returned) and asked to (`flush`). The schema must be there already."""
        if self.name == "sqlite":
            # Another connection holds the write lock, as a stuck writer or backup would; the
            # caller's other logs must not write until it is released.
            locker = sqlite3.connect(self.url.database or "", timeout=1, isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")
            engine = make_engine(self.url, busy_timeout_s=0.05)

            def reconnect() -> None:
                locker.execute("COMMIT")
                locker.close()

        else:
            gate = Gate(self.url.host or "127.0.0.1", self.url.port or 5432)
            self.gates.append(gate)
            engine = make_engine(self.url.set(host="127.0.0.1", port=gate.port))
            reconnect = gate.open
        settings = self.settings(data_dir=data_dir)
        # Retries only when asked: the test decides when the spool is replayed.
        cut = ResultLog(settings, engine=engine, retry_delays_s=(), replay_interval_s=3600)
        self.logs.append(cut)
        cut.start()
        assert cut.drain(10)
        return cut, reconnect

    def close(self) -> None:
        for result_log in self.logs:
            result_log.close()
        for gate in self.gates:
            gate.close()


def record(**values: Any) -> ScreeningRecord:
    """A valid record; keyword arguments override fields."""
    defaults: dict[str, Any] = {
        "status": "ok",
        "tier": "soon",
        "input_kind": "photo",
        "model_name": "test-model",
        "model_version": "1",
        "model_sha256": "0" * 64,
        "grader_version": "test-grader-1",
        "confidence": 0.8,
        "label": "mild_eye",
        "region": "eye",
        "severity": "mild",
        "probabilities": {"mild_eye": 0.8, "normal": 0.2},
        "asymmetry": {"eye_aperture": 0.12},
        "locale": "en",
        "timings_ms": {"decode": 1.5, "classify": 3.0},
    }
    return ScreeningRecord(**(defaults | values))


FINDING_TIERS = ("soon", "urgent", "emergency")


def onset(record_id: str, pseudonym: str | None, sudden: bool, to: str) -> OnsetAnswer:
    """An onset answer that takes any finding's tier to `to` (the bot derives the map from
    model.decision.triage; db tests need only its shape)."""
    return OnsetAnswer(record_id, pseudonym, sudden, {tier: to for tier in FINDING_TIERS})


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield from _sqlite(tmp_path)
        return
    with PostgresSchema() as url:
        backend = Backend("postgresql", url, _data_dir(tmp_path))
        yield backend
        backend.close()


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Iterator[Backend]:
    yield from _sqlite(tmp_path)


def _sqlite(tmp_path: Path) -> Iterator[Backend]:
    data_dir = _data_dir(tmp_path)
    url = URL.create("sqlite+pysqlite", database=str(data_dir / "palsy.sqlite3"))
    backend = Backend("sqlite", url, data_dir)
    yield backend
    backend.close()


def _data_dir(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return data_dir


class PostgresSchema:
    """A fresh schema on the test server; the URL puts it first on the search path."""

    def __init__(self) -> None:
        configured = os.environ.get(POSTGRES_ENV, "").strip()
        if not configured:
            if os.environ.get(REQUIRE_ENV, "").strip() not in {"", "0"}:
                pytest.fail(f"{REQUIRE_ENV} is set but {POSTGRES_ENV} is not")
            pytest.skip(f"no PostgreSQL server configured ({POSTGRES_ENV} unset)")
        self.server = make_url(configured)
        self.schema = f"t_{uuid.uuid4().hex[:16]}"
        self.admin = create_engine(self.server)

    def __enter__(self) -> URL:
        with self.admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        options = f"-csearch_path={self.schema}"
        return self.server.update_query_dict({"options": options})

    def __exit__(self, *_exc: object) -> None:
        with self.admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self.admin.dispose()


class Gate:
    """A TCP forwarder to a real server that starts closed: connections are dropped until
    `open()`. It stands in for a database that is down, then comes back."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.is_open = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def open(self) -> None:
        self.is_open.set()

    def shut(self) -> None:
        """Down again: live connections are dropped, new ones refused."""
        self.is_open.clear()
        for sock in self.sockets:
            sock.close()
        self.sockets.clear()

    def close(self) -> None:
        self.listener.close()
        for sock in self.sockets:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.is_open.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass
