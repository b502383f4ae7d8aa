"""Every command in README.md runs as written.

The README's fenced bash commands (and `.venv/bin/...` commands in inline code), with `&&`
chains split, run in README order in a scratch repository root: the repository's files linked
in, `.venv/bin` = the bin folder of the interpreter running pytest, `../shared` the real one.
Each command must match a rule: run it (the bot against the fake Bot API, bench scripts with
small counts), check its options against the parser (training: hours), or skip it for a stated
reason (no network, no Docker). A README command that no rule knows fails the test.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.fake_bot_api import FakeBotApi, FakeUser

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
NOT_LINKED = {".git", ".venv", "data", "runs", "cache", ".pytest_cache", ".mypy_cache"}


@dataclass(frozen=True)
class Rule:
    pattern: str
    action: str  # run | bot | parse | skip | export (to the commands after it)
    why: str = ""
    small: dict[str, list[str]] = field(default_factory=dict)  # option -> smaller values
    one_line: bool = False


RULES = [
    Rule(r"^export \w+=\S+$", "export"),
    Rule(r"^python3 -m venv \.venv$", "skip", "makes the venv; this test runs in the one it made"),
    Rule(r"^\.venv/bin/pip install", "skip", "installs from the package index: needs the network"),
    Rule(r"^\.venv/bin/python -m pytest$", "skip", "the test suite itself (.ci/run runs it)"),
    Rule(
        r"^docker ",
        "skip",
        "needs a Docker engine; .ci/run lints the Dockerfile and runs "
        ".ci/container-smoke.sh instead",
    ),
    Rule(r"\.venv/bin/palsy-bot --check$", "run", one_line=True),
    Rule(r"\.venv/bin/palsy-bot$", "bot"),
    Rule(r"\.venv/bin/palsy-train \w+", "parse", "trains or needs a trained run (hours)"),
    Rule(r"--model runs/v\d+/", "skip", "the model that Retrain step 2 trains (10-35 min)"),
    Rule(r"^cp runs/v\d+/", "skip", "installs the model that Retrain step 2 trains"),
    Rule(r"make_card\.sh", "skip", "needs the runs of Retrain (about 2 h)"),
    Rule(r"-m bench\.classifier", "skip", "needs the Keras run of Retrain step 2"),
    Rule(r"bench\.pipeline --against", "skip", "compares with another checkout made by hand"),
    Rule(r"bench\.face_anchor", "skip", "needs the [bench] extra (mediapipe) from the index"),
    Rule(r"-m bench\.decode_scale", "run", small={"--photos": ["2"]}),
    Rule(r"-m bench\.pipeline", "run", small={"--images": ["2"], "--repeats": ["1"]}),
    Rule(r"-m bench\.landmark_accuracy", "run", small={"--sweep": []}),
    Rule(r"-m bench\.train_epoch", "run", small={"--images": ["28"], "--epochs": ["1"]}),
    Rule(r"-m bench\.db_log", "run", small={"--rows": ["20"]}),
    Rule(r"-m bench\.decode_memory", "run", small={"--megapixels": ["1"]}),
    Rule(
        r"-m bench\.bot_throughput",
        "run",
        small={
            "--rates": ["2"],
            "--users": ["2"],
            "--photos": ["2"],
            "--single": ["2"],
            "--seconds": ["1"],
        },
    ),
    Rule(r"-m bench\.load_no_loss", "run", small={"--photos": ["10"], "--users": ["2"]}),
    Rule(r"^(\w+=\S+ )*(\.venv/bin/|python3 -c )", "run"),
]


def readme_commands(text: str) -> list[str]:
    """Fenced bash commands (continuations joined, `&&` split) and inline `.venv/bin/` ones."""
    fenced = re.compile(r"^[ \t]*```bash\n(.*?)^[ \t]*```", re.S | re.M)
    commands: list[str] = []
    for block in fenced.findall(text):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            comment = re.search(r"\s#\s.*$", line)  # a trailing comment, outside quotes
            if comment and line[: comment.start()].count('"') % 2 == 0:
                line = line[: comment.start()]
            if line.strip() and not line.strip().startswith("#"):
                commands += [" ".join(part.split()) for part in line.split(" && ")]
    for span in re.findall(r"`([^`\n]+)`", fenced.sub("", text)):
        if re.match(r"^(\w+=\S+ )*\.venv/bin/", span):
            commands.append(" ".join(span.split()))
    return list(dict.fromkeys(commands))


def rule_for(command: str) -> Rule | None:
    return next((rule for rule in RULES if re.search(rule.pattern, command)), None)


def shrink(command: str, small: dict[str, list[str]]) -> str:
    """`command` with each option in `small` given the small values (added when absent)."""
    words = shlex.split(command)
    for option, values in small.items():
        if option in words:
            at = words.index(option)
            end = at + 1
            while end < len(words) and not words[end].startswith("--"):
                end += 1
            words[at:end] = [option, *values]
        else:
            words += [option, *values]
    return shlex.join(words)


@pytest.fixture
def scratch(tmp_path: Path, london_dir: Path) -> Path:
    """A repository root as a fresh clone with the README's venv would look."""
    root = tmp_path / "repo"
    root.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in NOT_LINKED:
            (root / entry.name).symlink_to(entry)
    # The venv whole (its pyvenv.cfg is found next to bin/), not only bin/.
    (root / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (tmp_path / "shared").symlink_to(london_dir.parents[2])
    # The README's placeholders: a photo, another contract-following model.
    shutil.copy(london_dir / "neutral" / "001_03.jpg", root / "photo.jpg")
    shutil.copy(REPO / "model" / "assets" / "classifier.onnx", root / "other.onnx")
    return root


def _env() -> dict[str, str]:
    """This environment minus the bot's and database's settings: a fresh shell."""
    prefixes = ("PALSY_", "TELEGRAM_", "DATABASE_URL")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def _problems(output: str) -> list[str]:
    return [line for line in output.splitlines() if "Traceback" in line]


def _run(command: str, cwd: Path, env: dict[str, str], one_line: bool) -> str | None:
    done = subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 or _problems(output):
        return f"exit {done.returncode}:\n{output[-3000:]}"
    if one_line and len(output.splitlines()) != 1:
        return f"more than one line:\n{output}"
    return None


def _bot(command: str, cwd: Path, env: dict[str, str]) -> str | None:
    """The bot as written, against the fake Bot API: it answers /start, then SIGTERM stops it."""
    words = shlex.split(command, comments=True)
    env = dict(env)
    while re.match(r"^\w+=", words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    token = env["TELEGRAM_BOT_TOKEN"]
    with FakeBotApi(token) as api:
        env["TELEGRAM_API_BASE_URL"] = api.base_url
        env["TELEGRAM_FILE_BASE_URL"] = api.file_base_url
        process = subprocess.Popen(words, cwd=cwd, env=env, stderr=subprocess.PIPE, text=True)
        try:
            api.wait_for(lambda calls: [c for c in calls if c.method == "setMyCommands"], 120)
            reply = api.command(FakeUser(7), "/start", timeout=60)
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=30)
    if process.returncode != 0 or _problems(err) or token.split(":")[1] in err or not reply.text:
        return f"exit {process.returncode}:\n{err[-3000:]}"
    return None


def _parse(command: str) -> str | None:
    from training.__main__ import _parser

    try:
        _parser().parse_args(shlex.split(command)[1:])
    except SystemExit:
        return "palsy-train does not accept these arguments"
    return None


def test_readme_commands_are_known() -> None:
    commands = readme_commands(README.read_text())
    unknown = [c for c in commands if rule_for(c) is None]
    assert not unknown, f"README commands no rule in {__name__} knows: {unknown}"
    assert any("palsy-bot" in c for c in commands) and any("bench." in c for c in commands)


def test_readme_commands_run_as_written(scratch: Path) -> None:
    failures, ran, skipped = [], [], []
    done: set[str] = set()
    env = _env()  # the shell session: `export` lines add to it
    for command in readme_commands(README.read_text()):
        rule = rule_for(command)
        assert rule is not None, command
        if rule.small:
            command = shrink(command, rule.small)
        if command in done:  # the same bench in prose and table
            continue
        done.add(command)
        if rule.action == "skip":
            skipped.append(f"{command}  ({rule.why})")
            continue
        if rule.action == "export":
            name, value = command.removeprefix("export ").split("=", 1)
            env[name] = value
            continue
        if rule.action == "bot":
            problem = _bot(command, scratch, env)
        elif rule.action == "parse":
            problem = _parse(command)
        else:
            problem = _run(command, scratch, env, rule.one_line)
        ran.append(command)
        if problem:
            failures.append(f"$ {command}\n{problem}")
    assert not failures, "\n\n".join(failures)
    assert len(ran) >= 20, ran
    print("skipped:\n" + "\n".join(skipped))
    # Offline: the palsy-train console script (the parse rule does not start it).
    assert _run(".venv/bin/palsy-train --help", scratch, env, one_line=False) is None
