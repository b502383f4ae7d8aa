"""Deployment files: the image's base is pinned by digest, its Python packages come from the
lock file with hashes (and the lock agrees with pyproject.toml), and docker-compose.yml is
valid YAML with a replica profile whose replicas each keep their own heartbeat.

Without a Docker engine here, the compose file is read as Compose reads it (YAML, merge keys,
no duplicate keys: the old commented replica block declared `bot:` twice)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "deploy" / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+) \\$")


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _locked() -> dict[str, str]:
    """name -> version of every package in the lock; each must carry a hash."""
    pins: dict[str, str] = {}
    lines = LOCK.read_text().splitlines()
    for i, line in enumerate(lines):
        match = _PIN.match(line)
        if match:
            assert lines[i + 1].strip().startswith("--hash=sha256:"), line
            pins[_name(match.group(1))] = match.group(2)
    return pins


def test_the_lock_pins_every_runtime_dependency_at_pyprojects_version_with_hashes() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    locked = _locked()
    for requirement in project["project"]["dependencies"]:
        name, version = re.split(r"==", requirement)
        name = _name(name.split("[")[0])
        assert locked.get(name) == version, f"{requirement}: deploy/lock.sh remakes the lock"
    for backend in ("setuptools", "wheel"):  # the project is built with these, not the index's
        assert backend in locked
    assert not {"tensorflow", "tensorflow-cpu", "tf2onnx", "pytest"} & set(locked)


def test_the_image_is_pinned_and_installs_from_the_lock_only() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert bases and all(re.fullmatch(r"[\w.:/-]+@sha256:[0-9a-f]{64}", b) for b in bases), bases
    assert "deploy/requirements.lock" in dockerfile
    assert "!deploy/requirements.lock" in (REPO / ".dockerignore").read_text()
    install = (REPO / "deploy" / "install-runtime.sh").read_text()
    assert "--require-hashes" in install and "--no-deps" in install
    assert "--no-build-isolation" in install  # else pip fetches setuptools unpinned
    heartbeat = re.search(r"PALSY_HEARTBEAT_FILE=(\S+)", dockerfile)
    assert heartbeat is not None and heartbeat.group(1).startswith("/tmp/")


class _Strict(yaml.SafeLoader):
    """YAML as Compose reads it: a key twice in one mapping is an error."""


def _mapping(loader: _Strict, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    merge = "tag:yaml.org,2002:merge"
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value if k.tag != merge]
    duplicates = {key for key in keys if keys.count(key) > 1}
    if duplicates:
        raise yaml.constructor.ConstructorError(None, None, f"duplicate keys {duplicates}")
    return loader.construct_mapping(node, deep=deep)


_Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load((REPO / "docker-compose.yml").read_text(), _Strict)
    return loaded


def test_the_compose_file_has_a_working_replica_profile() -> None:
    services = compose()["services"]
    polling, replica = services["bot"], services["bot-replica"]
    # Plain `docker compose up` starts the polling bot and the database, nothing else.
    assert {name for name, s in services.items() if "profiles" not in s} == {"bot", "db"}
    assert replica["profiles"] == ["replicas"] and services["proxy"]["profiles"] == ["replicas"]
    assert replica["deploy"]["replicas"] >= 2
    env = replica["environment"]
    assert env["PALSY_WEBHOOK_URL"].startswith("https://") and env["PALSY_WEBHOOK_PORT"] == "8080"
    assert "PALSY_WEBHOOK_URL" not in polling["environment"]
    assert "bot-replica:8080" in services["proxy"]["command"]
    for bot in (polling, replica):
        # Same image (its heartbeat in /tmp), each container its own /tmp: a heartbeat each.
        assert bot["build"] == "." and bot["tmpfs"] == ["/tmp"] and bot["read_only"] is True
        assert bot["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "bot-data:/data" in bot["volumes"]
        assert "PALSY_HEARTBEAT_FILE" not in bot["environment"]  # the image's, in /tmp


def test_a_duplicate_key_is_caught() -> None:
    try:
        yaml.load("services:\n  bot: {}\n  bot: {}\n", _Strict)
    except yaml.constructor.ConstructorError as exc:
        assert "duplicate" in str(exc)
    else:
        raise AssertionError("a duplicate key was accepted")
