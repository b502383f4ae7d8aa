"""Result-log settings and keyed pseudonyms."""

from __future__ import annotations

import json
import logging
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from db.pseudonym import Pseudonymizer, create_pepper
from db.records import ScreeningRecord
from db.settings import ConfigError, DbSettings
from tests.support.db_backends import record


def test_defaults_need_no_setup() -> None:
    settings = DbSettings.from_env({})
    assert settings.data_dir == Path("./data")
    assert settings.url.get_backend_name() == "sqlite"
    assert settings.url.database == str(Path("./data") / "palsy.sqlite3")
    assert not settings.anonymous
    assert settings.retention_days == 180


def test_reads_every_setting(tmp_path: Path) -> None:
    settings = DbSettings.from_env(
        {
            "PALSY_DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://u:p@db.example:5433/palsy",
            "PALSY_ANONYMOUS": "yes",
            "PALSY_RETENTION_DAYS": "30d",
        }
    )
    assert settings.data_dir == tmp_path
    # Plain postgres URLs would ask for psycopg2; only psycopg 3 is installed.
    assert settings.url.drivername == "postgresql+psycopg"
    assert (settings.url.host, settings.url.port) == ("db.example", 5433)
    assert settings.anonymous
    assert settings.retention_days == 30
    assert settings.spool_path.parent == tmp_path


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PALSY_ANONYMOUS", "maybe"),
        ("PALSY_RETENTION_DAYS", "0"),
        ("PALSY_RETENTION_DAYS", "six months"),
        ("DATABASE_URL", "not a url"),
        ("PALSY_PEPPER", "short"),
    ],
)
def test_bad_values_name_the_setting(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        DbSettings.from_env({name: value})
    assert caught.value.setting == name
    assert str(caught.value).startswith(f"{name}: ")
    assert "\n" not in str(caught.value)


def test_pepper_and_pepper_file_together_are_ambiguous(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not both"):
        DbSettings.from_env({"PALSY_PEPPER": "x" * 32, "PALSY_PEPPER_FILE": str(tmp_path / "p")})


def test_settings_repr_hides_the_pepper() -> None:
    settings = DbSettings.from_env({"PALSY_PEPPER": "secret-pepper-123456"})
    assert "secret-pepper" not in repr(settings)


def test_same_id_same_pseudonym_different_pepper_different() -> None:
    one = Pseudonymizer(b"a" * 32)
    two = Pseudonymizer(b"b" * 32)
    assert one.of(123456789) == one.of(123456789)
    assert one.of(123456789) != one.of(123456780)
    assert one.of(123456789) != two.of(123456789)
    pseudonym = one.of(123456789)
    assert pseudonym is not None and len(pseudonym) == 64
    assert "123456789" not in pseudonym


def test_pepper_file_created_private_reused_and_not_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = DbSettings.from_env({"PALSY_DATA_DIR": str(tmp_path / "data")})
    with pytest.raises(ConfigError, match="no pepper"):  # never invented by accident
        Pseudonymizer.from_settings(settings)
    assert not (tmp_path / "data" / "pepper").exists()
    with caplog.at_level(logging.WARNING, logger="db.pseudonym"):
        first = Pseudonymizer(create_pepper(settings))
    pepper_file = tmp_path / "data" / "pepper"
    assert stat.S_IMODE(pepper_file.stat().st_mode) == 0o600
    content = pepper_file.read_text().strip()
    assert str(pepper_file) in caplog.text
    assert content not in caplog.text

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="db.pseudonym"):
        again = Pseudonymizer.from_settings(settings)
        made_twice = Pseudonymizer(create_pepper(settings))  # another replica, a moment later
    assert again.of(42) == first.of(42) == made_twice.of(42)
    assert caplog.text == ""  # reused quietly


def test_pepper_from_env_or_named_file(tmp_path: Path) -> None:
    secret = tmp_path / "pepper.txt"
    secret.write_text("file-pepper-0123456789\n")
    secret.chmod(0o600)
    from_file = Pseudonymizer.from_settings(DbSettings.from_env({"PALSY_PEPPER_FILE": str(secret)}))
    from_env = Pseudonymizer.from_settings(
        DbSettings.from_env({"PALSY_PEPPER": "file-pepper-0123456789"})
    )
    assert from_file.of(7) == from_env.of(7)
    with pytest.raises(ConfigError) as caught:
        Pseudonymizer.from_settings(
            DbSettings.from_env({"PALSY_PEPPER_FILE": str(tmp_path / "missing")})
        )
    assert caught.value.setting == "PALSY_PEPPER_FILE"


def test_anonymous_mode_links_nobody_and_creates_no_pepper(tmp_path: Path) -> None:
    settings = DbSettings.from_env({"PALSY_DATA_DIR": str(tmp_path), "PALSY_ANONYMOUS": "1"})
    pseudonymizer = Pseudonymizer.from_settings(settings)
    assert pseudonymizer.anonymous
    assert pseudonymizer.of(42) is None
    assert not (tmp_path / "pepper").exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "maybe"},
        {"input_kind": "video"},
        {"id": "not-a-uuid"},
        {"created_at": datetime(2026, 1, 1)},  # naive
        {"pseudonym": "123456789"},  # a raw id is not a pseudonym
        {"probabilities": {"normal": float("nan")}},
        {"asymmetry": {"eye": object()}},
        {"label": "x" * 100},
    ],
)
def test_record_refuses_bad_values_in_the_caller(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        record(**changes)


def test_record_round_trips_through_json() -> None:
    sent = record(pseudonym="b" * 64, sudden_onset=True)
    assert ScreeningRecord.from_json(json.loads(json.dumps(sent.to_json()))) == sent
