"""Settings: defaults, and every bad setting gives exit status 2 and one line naming it."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.config import TOKEN_EXAMPLE, TOKEN_SHAPE, BotSettings, ConfigError
from tests.support.bot_harness import preserved_logging
from tests.support.onnx_fixtures import build_tiny_classifier

TOKEN = "123456:TEST-token_abcdefghijklmnop"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("PALSY_", "TELEGRAM_", "DATABASE_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("PALSY_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


def test_defaults() -> None:
    s = BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert (s.emergency_number, s.ambulance_number) == ("112", "108")
    assert (s.rate_limit_photos, s.rate_limit_window_s) == (5, 60.0)
    assert s.api_base_url == "https://api.telegram.org/bot"
    assert s.file_base_url == "https://api.telegram.org/file/bot"
    assert s.webhook is None and s.default_language == "en"


def test_webhook_mode_needs_a_secret_and_reads_secret_files(tmp_path: Path) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "PALSY_WEBHOOK_URL": "https://bot.example.org/tg"}
    with pytest.raises(ConfigError) as err:
        BotSettings.from_env(env)
    assert err.value.setting == "PALSY_WEBHOOK_SECRET"
    secret = tmp_path / "secret"
    value = secrets.token_urlsafe(32)  # as the error message says to make one
    secret.write_text(value + "\n")
    hook = BotSettings.from_env({**env, "PALSY_WEBHOOK_SECRET_FILE": str(secret)}).webhook
    assert hook is not None and hook.secret == value and hook.port == 8080


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        ("x", "got 1, all allowed"),  # it used to pass: the only check on a webhook update
        ("s3cret" * 5, "got 30, all allowed"),
        ("a" * 31 + "!", "got 32, some not allowed"),
    ],
)
def test_a_weak_webhook_secret_is_refused_with_how_to_make_one(secret: str, says: str) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "PALSY_WEBHOOK_URL": "https://bot.example.org/tg",
           "PALSY_WEBHOOK_SECRET": secret}  # fmt: skip
    with pytest.raises(ConfigError) as err:
        BotSettings.from_env(env)
    assert err.value.setting == "PALSY_WEBHOOK_SECRET"
    assert "32-256 characters" in str(err.value) and says in str(err.value)
    assert "\n" not in str(err.value)
    # The command it gives makes a secret that passes.
    command = str(err.value).split("make one with: ", 1)[1]
    made = subprocess.run(command, shell=True, capture_output=True, text=True, check=True)
    made = made.stdout.strip()
    assert BotSettings.from_env({**env, "PALSY_WEBHOOK_SECRET": made}).webhook is not None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", ""),
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("TELEGRAM_API_BASE_URL", "ftp://example.org/bot"),
        ("PALSY_EMERGENCY_NUMBER", "call someone"),
        ("PALSY_DEFAULT_LANGUAGE", "fr"),
        ("PALSY_RATE_LIMIT_PHOTOS", "0"),
        ("PALSY_RATE_LIMIT_WINDOW_S", "soon"),
        ("PALSY_MODEL_PATH", "/nonexistent/model.onnx"),
        ("PALSY_LOG_LEVEL", "LOUD"),
        ("PALSY_WEBHOOK_URL", "http://insecure.example.org/"),
        ("PALSY_PEPPER", "short"),  # read by db.settings
        ("DATABASE_URL", "::not a url::"),
    ],
)
def test_bad_setting_exits_2_with_one_line_naming_it(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    clean_env.setenv(name, value)
    assert main(["--check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and name in err
    assert TOKEN.split(":")[1] not in err


def test_console_script_exit_status_and_no_token_echo(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("palsy-bot")
    env = {"PATH": os.environ.get("PATH", ""), "TELEGRAM_BOT_TOKEN": "12:" + "x" * 3}
    env.update((k, v) for k, v in os.environ.items() if k == "PYTHONPATH")  # a checkout on top
    run = subprocess.run(
        [str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "palsy-bot: configuration error: TELEGRAM_BOT_TOKEN: does not look like a bot token: "
        f"expected {TOKEN_SHAPE}, like {TOKEN_EXAMPLE}; got 2 digits before ':' and 3 "
        "characters after it"
    ]
    assert "xxx" not in run.stderr


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("no-colon-at-all", "no ':'"),
        ("12:" + "s3cr" * 2, "8 characters after it"),
        ("bot12:" + "s3cr" * 4, "not all digits"),
        ("12:" + "s3cr" * 4 + '"', "not allowed"),
    ],
)
def test_malformed_token_says_what_is_wrong_without_echoing_it(token: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        BotSettings.from_env({"TELEGRAM_BOT_TOKEN": token})
    assert says in str(err.value) and TOKEN_SHAPE in str(err.value)
    assert "s3cr" not in str(err.value) and "colon-at" not in str(err.value)


def test_readme_tokens_pass_the_format_check() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    tokens = re.findall(r"TELEGRAM_BOT_TOKEN=(\S+)", readme)
    assert tokens and TOKEN_EXAMPLE in tokens
    for token in tokens:
        assert BotSettings.from_env({"TELEGRAM_BOT_TOKEN": token}).token == token


def test_dotenv_file_is_read_but_environment_wins(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "PALSY_LOG_LEVEL"):  # undo what load_dotenv sets
        clean_env.setenv(name, "")
        clean_env.delenv(name)
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nPALSY_LOG_LEVEL=LOUD\n")
    assert main(["--check"]) == 2
    assert "PALSY_LOG_LEVEL" in capsys.readouterr().err  # the token came from .env
    clean_env.setenv("PALSY_LOG_LEVEL", "QUIET")
    assert main(["--check"]) == 2
    assert "'QUIET'" in capsys.readouterr().err


def test_check_loads_models_migrates_and_alive_reads_the_heartbeat(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    clean_env.setenv("PALSY_MODEL_PATH", str(build_tiny_classifier(tmp_path / "c.onnx")))
    with preserved_logging():
        assert main(["--check"]) == 0
    first = capsys.readouterr()
    (line,) = first.out.splitlines()
    assert first.err == ""  # one line in all: no migration or pepper log lines
    assert line.startswith("palsy-bot: OK: model") and "not clinically validated" in line
    assert f"created the pepper {tmp_path / 'data' / 'pepper'}" in line
    with preserved_logging():
        assert main(["--check"]) == 0
    again = capsys.readouterr()
    assert again.err == "" and "pepper" not in again.out and len(again.out.splitlines()) == 1
    assert (tmp_path / "data" / "palsy.sqlite3").is_file()
    assert main(["--alive"]) == 1  # no running bot, no heartbeat
    (tmp_path / "data" / "heartbeat").touch()
    assert main(["--alive"]) == 0
    (tmp_path / "data" / "heartbeat").unlink()
    clean_env.setenv("PALSY_HEARTBEAT_FILE", str(tmp_path / "replica-1.heartbeat"))
    assert main(["--alive"]) == 1  # its own heartbeat, not the one in the shared data directory
    (tmp_path / "replica-1.heartbeat").touch()
    assert main(["--alive"]) == 0


def test_another_or_a_lost_pepper_stops_the_bot_in_one_line(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    clean_env.setenv("PALSY_MODEL_PATH", str(build_tiny_classifier(tmp_path / "c.onnx")))
    with preserved_logging():
        assert main(["--check"]) == 0  # the first start makes the pepper and records it
    capsys.readouterr()
    pepper = tmp_path / "data" / "pepper"
    made = pepper.read_text()
    clean_env.setenv("PALSY_PEPPER", "another-pepper-0123456789")
    with preserved_logging():
        assert main(["--check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("palsy-bot: configuration error: PALSY_PEPPER: the pepper here")
    assert err.count("\n") == 1 and "from your backup" in err
    # The volume is recreated: no pepper file, but the database remembers it had one.
    clean_env.delenv("PALSY_PEPPER")
    pepper.unlink()
    with preserved_logging():
        assert main(["--check"]) == 2
    err = capsys.readouterr().err
    assert "no pepper here, but the database" in err and err.count("\n") == 1
    assert not pepper.exists()  # not invented: that would split every person's rows in two
    pepper.write_text(made)  # restored from the backup
    pepper.chmod(0o600)
    with preserved_logging():
        assert main(["--check"]) == 0
