#!/bin/sh
# Remake deploy/requirements.lock: every package of the runtime install (pyproject.toml's
# dependencies, no extras, and the build backend), pinned, each with the SHA-256 of every file
# the index has for it. The Dockerfile and .ci/container-smoke.sh install from it with
# --require-hashes. Needs the package index; run from the repository root after changing a
# dependency (tests/repo/test_deploy.py checks that the two agree).
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check pip-tools==7.7.0
"$work/venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --all-build-deps \
    --strip-extras --no-emit-index-url --no-emit-find-links \
    --output-file deploy/requirements.lock pyproject.toml
