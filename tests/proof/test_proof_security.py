"""Security proofs: secrets never reach the logs, SQL is always bound, photos never touch disk.

The log and disk checks run the real `palsy-bot` process once (DEBUG logging, network faults
so the error paths log too) against the fake Bot API, from a read-only working directory.
CI runs as root, where chmod 0555 does not stop writes: so the directory is also snapshotted,
and every file the run could have written is scanned for image bytes.
"""

from __future__ import annotations

import ast
import io
import os
import secrets
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import inspect, select

from bot.app import RESEND_DELAYS_S
from db.store import SCREENINGS
from tests.support.bot_harness import TOKEN
from tests.support.db_backends import Backend, record
from tests.support.fake_bot_api import FakeBotApi, FakeUser, Fault
from tests.support.onnx_fixtures import build_tiny_classifier

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("db", "bot", "model", "training")
# Magic numbers of every image format the bot accepts (and a few it refuses).
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM", b"II*\0", b"MM\0*")
USER_IDS = (918273645, 918273646)  # distinctive: must not appear in logs either


@dataclass
class Run:
    log: str
    pepper: str
    cwd: Path
    data: Path
    tmpdir: Path
    cwd_before: list[str]
    photos: list[bytes]
    exit_code: int


def _photos(london_faces: list[Path]) -> list[bytes]:
    ramp = np.linspace(40, 220, 480, dtype=np.uint8)
    plain = Image.fromarray(np.repeat(np.tile(ramp, (360, 1))[:, :, None], 3, axis=2))
    out = []
    for image, fmt in [(plain, "JPEG"), (plain.convert("RGBA"), "PNG")]:
        buf = io.BytesIO()
        image.save(buf, fmt)
        out.append(buf.getvalue())
    return out + [p.read_bytes() for p in london_faces[:1]]


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("proof-security")
    cwd, data, tmpdir = root / "cwd", root / "data", root / "tmp"
    for folder in (cwd, tmpdir):
        folder.mkdir()
    (cwd / "README.txt").write_text("the bot's working directory: it writes nothing here\n")
    classifier = build_tiny_classifier(root / "c.onnx", bias={"normal": 6.0})
    london = sorted((REPO.parent / "shared/data/faces/london/neutral").glob("*_03.jpg"))
    photos = _photos(london)
    pepper = "proof-pepper-" + secrets.token_hex(16)
    cwd.chmod(0o555)
    before = _listing(cwd)
    log_path = root / "bot.log"
    with FakeBotApi(TOKEN) as api, log_path.open("wb") as log_file:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "TELEGRAM_FILE_BASE_URL": api.file_base_url,
            "PALSY_DATA_DIR": str(data),
            "PALSY_PEPPER": pepper,
            "PALSY_MODEL_PATH": str(classifier),
            "PALSY_LOG_LEVEL": "DEBUG",
            "PALSY_RATE_LIMIT_PHOTOS": "100",
            "TMPDIR": str(tmpdir),
        }
        # Errors on the way: tracebacks and retries get logged too.
        api.inject("getUpdates", Fault.server_error())
        api.inject("sendMessage", *[Fault.server_error()] * (len(RESEND_DELAYS_S) + 1))
        api.inject("file", Fault.reset())
        bot = subprocess.Popen(
            [str(Path(sys.executable).with_name("palsy-bot"))],
            env=env,
            cwd=cwd,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            api.wait_for(lambda calls: any(c.method == "setMyCommands" for c in calls), 120)
            users = [FakeUser(uid) for uid in USER_IDS]
            sent = [api.send_photo(users[i % 2], p) for i, p in enumerate(photos * 2)]
            sent.append(api.send_document(users[0], photos[1], file_name="scan.png"))
            sent.append(api.send_photo(users[1], b"\xff\xd8\xff\xe0 broken"))
            # One answer each; the reply that met the failing sends became a plain apology.
            api.wait_for(lambda calls: len([c for c in calls if c.method == "sendMessage"])
                         >= len(sent), 60, "an answer to every photo")  # fmt: skip
            api.command(users[0], "/start", 30)
            api.command(users[1], "/privacy", 30)
        finally:
            bot.send_signal(signal.SIGINT)
            code = bot.wait(60)
            cwd.chmod(0o755)
    yield Run(log_path.read_text(), pepper, cwd, data, tmpdir, before, photos, code)


def test_the_run_logged_and_stopped_cleanly(run: Run) -> None:
    assert run.exit_code == 0, run.log[-2000:]
    # The error paths ran: the failed download is logged with its traceback at DEBUG.
    assert "DEBUG" in run.log and "download failed" in run.log and "Traceback" in run.log


def test_logs_hold_neither_token_nor_pepper_nor_user_ids(run: Run) -> None:
    secret_part = TOKEN.split(":", 1)[1]
    for secret in (TOKEN, quote(TOKEN, safe=""), secret_part, run.pepper):
        assert secret not in run.log
    for user_id in USER_IDS:
        assert str(user_id) not in run.log


def test_nothing_written_to_the_working_directory(run: Run) -> None:
    assert _listing(run.cwd) == run.cwd_before
    assert stat.S_IMODE(run.cwd.stat().st_mode) == 0o755  # restored after the run


def test_no_photo_bytes_anywhere_on_disk(run: Run) -> None:
    files = [p for folder in (run.cwd, run.data, run.tmpdir) for p in folder.rglob("*")]
    files = [p for p in files if p.is_file()]
    assert any(p.name.endswith(".sqlite3") for p in files)  # the run did write its database
    # A slice from the middle of each photo: catches bytes embedded in any file, not only
    # files that start like an image.
    slices = [photo[len(photo) // 2 : len(photo) // 2 + 48] for photo in run.photos]
    for path in files:
        content = path.read_bytes()
        assert not content.startswith(IMAGE_MAGIC), path
        assert not any(s in content for s in slices), path


# --- SQL is always bound ----------------------------------------------------------------------

SQL_CALLS = {"text", "execute", "exec_driver_sql", "executemany", "executescript"}
# SQL built by interpolation that is safe: a number computed in code, never data. Each entry is
# (file, interpolated name); a new one must be reviewed and added here.
REVIEWED = {
    ("db/engine.py", "busy_ms"),  # int(busy_timeout_s * 1000): a PRAGMA cannot take a parameter
    ("db/migrations/env.py", "_PG_LOCK_KEY"),  # an int constant of the module
}


def _interpolated(node: ast.expr) -> list[str] | None:
    """Names interpolated into a string built by f-string, %, + or .format(); None if the
    argument is not built from pieces (a literal, a Select, a bound text())."""
    if isinstance(node, ast.JoinedStr):
        names = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                inner = value.value
                names.append(inner.id if isinstance(inner, ast.Name) else ast.unparse(inner))
        return names
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return [ast.unparse(node)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format":
            return [ast.unparse(node)]
    return None


def _built_sql() -> list[tuple[str, str]]:
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name not in SQL_CALLS:
                    continue
                for piece in _interpolated(node.args[0]) or []:
                    found.append((str(path.relative_to(REPO)), piece))
    return found


def test_no_sql_is_built_from_strings() -> None:
    built = _built_sql()
    assert set(built) <= REVIEWED, f"SQL built by interpolation: {set(built) - REVIEWED}"
    assert built, "the scan found none of the reviewed cases: is it still looking?"


def test_the_scan_catches_interpolation() -> None:
    bad = [
        "connection.execute(text(f\"SELECT * FROM t WHERE p = '{pseudonym}'\"))",
        "connection.exec_driver_sql('DELETE FROM t WHERE p = %s' % pseudonym)",
        "cursor.execute('SELECT ' + column)",
        "text('SELECT {}'.format(label))",
    ]
    for source in bad:
        call = ast.parse(source).body[0].value  # type: ignore[attr-defined]
        inner = call.args[0]
        if isinstance(inner, ast.Call) and getattr(inner.func, "id", "") == "text":
            inner = inner.args[0]
        assert _interpolated(inner), source
    assert _interpolated(ast.parse("text('SELECT 1')").body[0].value.args[0]) is None  # type: ignore[attr-defined]


INJECTION = "'; DROP TABLE screenings; --"


def test_hostile_strings_round_trip_as_data(db_backend: Backend) -> None:
    results = db_backend.log()
    hostile = record(
        label=INJECTION,
        model_name='m"); DELETE FROM user_prefs; --',
        locale="x');DROP--",
        probabilities={INJECTION: 0.9, "normal": 0.1},
        asymmetry={"weaker_side": INJECTION},
    )
    pseudonym = "ab" * 32
    innocent = record(pseudonym=pseudonym)
    results.submit(hostile)
    results.submit(innocent)
    assert results.flush(30)
    results.set_language(pseudonym, "en'--")
    with results.engine.connect() as connection:
        rows = {r.id: r for r in connection.execute(select(SCREENINGS))}
    assert set(rows) == {hostile.id, innocent.id}
    stored = rows[hostile.id]
    assert (stored.label, stored.model_name, stored.locale) == (
        hostile.label,
        hostile.model_name,
        hostile.locale,
    )
    assert stored.probabilities == hostile.probabilities and stored.asymmetry == hostile.asymmetry
    # Hostile lookups match nothing and delete nothing.
    assert results.get_language("' OR '1'='1") is None
    assert results.get_language(pseudonym) == "en'--"
    assert results.forget("' OR '1'='1' --") == 0
    assert results.forget(INJECTION) == 0
    tables = set(inspect(results.engine).get_table_names())
    assert {"screenings", "user_prefs"} <= tables
    with results.engine.connect() as connection:
        assert len(connection.execute(select(SCREENINGS.c.id)).all()) == 2
