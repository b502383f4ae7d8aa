"""`palsy-db`: the admin path for migrations, erasure, retention and NGO reports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from db.__main__ import main
from db.pseudonym import Pseudonymizer, fingerprint
from tests.support.db_backends import TEST_PEPPER, Backend, record


@pytest.fixture
def env(db_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Backend:
    monkeypatch.setenv("DATABASE_URL", db_backend.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PALSY_DATA_DIR", str(db_backend.data_dir))
    monkeypatch.setenv("PALSY_PEPPER", TEST_PEPPER)
    for name in ("PALSY_PEPPER_FILE", "PALSY_ANONYMOUS", "PALSY_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    return db_backend


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_commands_need_the_schema_first(env: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("stats")[0] == 1
    assert "palsy-db upgrade" in capsys.readouterr().err
    assert run("upgrade")[0] == 0
    assert run("upgrade")[0] == 0  # idempotent
    assert run("stats") == (0, "week,tier,label,count\n")


def test_forget_purge_stats_export(env: Backend) -> None:
    assert run("upgrade")[0] == 0
    pseudonym = Pseudonymizer(TEST_PEPPER.encode()).of(555)
    now = datetime.now(UTC)
    log = env.log()
    for created_at in (now, now - timedelta(days=40)):
        log.submit(record(pseudonym=pseudonym, created_at=created_at))
    log.submit(record(tier="urgent", label="moderate_mouth", created_at=now - timedelta(days=90)))
    log.submit(record(created_at=now))
    assert log.flush()

    assert run("forget", "--telegram-id", "555")[0] == 0
    assert log.store.count() == 2
    assert run("purge", "--older-than", "60d")[0] == 0
    assert log.store.count() == 1

    code, out = run("stats")
    assert code == 0
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert (row["tier"], row["label"], row["count"]) == ("soon", "mild_eye", "1")

    code, out = run("export", "--format", "jsonl")
    assert code == 0
    [exported] = [json.loads(line) for line in out.splitlines()]
    assert "pseudonym" not in exported and exported["tier"] == "soon"


def test_forget_in_anonymous_mode_says_there_is_nothing(
    env: Backend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("upgrade")[0] == 0
    monkeypatch.setenv("PALSY_ANONYMOUS", "1")
    assert run("forget", "--telegram-id", "555")[0] == 0
    assert "anonymous" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value"), [("PALSY_RETENTION_DAYS", "soon"), ("DATABASE_URL", "nosuchdb://x")]
)
def test_bad_config_exits_2_with_one_line(
    env: Backend,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
) -> None:
    monkeypatch.setenv(name, value)
    assert run("stats")[0] == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and name in err and "Traceback" not in err


def test_unreachable_database_exits_1_with_one_line(
    env: Backend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = env.broken()
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    assert run("upgrade")[0] == 1
    err = capsys.readouterr().err
    assert err.startswith("palsy-db: database unavailable:") and err.count("\n") == 1


@pytest.mark.parametrize("command", [["stats"], ["export", "--format", "jsonl"]])
def test_read_only_commands_create_nothing(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("DATABASE_URL", "PALSY_PEPPER", "PALSY_PEPPER_FILE", "PALSY_ANONYMOUS"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("PALSY_DATA_DIR", str(data))
    assert run(*command) == (1, "")
    assert f"no database at {data / 'palsy.sqlite3'}" in capsys.readouterr().err
    assert not data.exists()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}")
    assert run(*command) == (1, "")
    assert "DATABASE_URL" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_forget_with_another_pepper_refuses_in_one_line_and_erases_nothing(
    env: Backend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("upgrade")[0] == 0
    capsys.readouterr()
    log = env.log()
    log.expect_pepper(fingerprint(TEST_PEPPER.encode()), record=True)  # as the bot does
    log.submit(record(pseudonym=Pseudonymizer(TEST_PEPPER.encode()).of(555)))
    assert log.flush()
    monkeypatch.setenv("PALSY_PEPPER", "another-pepper-0123456789")
    for command in (["forget", "--telegram-id", "555"], ["stats"]):
        assert run(*command) == (1, "")
        err = capsys.readouterr().err
        assert err.startswith("palsy-db: the pepper here (fingerprint ") and err.count("\n") == 1
        assert "is not the one the database" in err and "PALSY_PEPPER" in err
    assert log.store.count() == 1
    monkeypatch.setenv("PALSY_PEPPER", TEST_PEPPER)
    assert run("forget", "--telegram-id", "555")[0] == 0
    assert log.store.count() == 0


def test_forget_never_invents_a_pepper(
    env: Backend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Run from another data directory without PALSY_PEPPER, it used to create a pepper there,
    erase nothing and say "erased 0" with exit status 0."""
    assert run("upgrade")[0] == 0
    capsys.readouterr()
    log = env.log()
    log.submit(record(pseudonym=Pseudonymizer(TEST_PEPPER.encode()).of(555)))
    assert log.flush()
    monkeypatch.delenv("PALSY_PEPPER")
    admin = tmp_path / "admin"
    monkeypatch.setenv("PALSY_DATA_DIR", str(admin))
    assert run("forget", "--telegram-id", "555")[0] == 2
    err = capsys.readouterr().err
    assert "no pepper" in err and err.count("\n") == 1
    assert not (admin / "pepper").exists() and log.store.count() == 1
