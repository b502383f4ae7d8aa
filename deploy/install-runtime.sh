#!/bin/sh
# Install the runtime (no TensorFlow, no training extras) into a fresh virtual environment.
# Used by the Dockerfile and by CI's container smoke test, so both install exactly the same way:
# every package pinned and checked against its hashes in deploy/requirements.lock (made by
# deploy/lock.sh), then the project itself, with nothing else fetched.
# Usage: deploy/install-runtime.sh VENV_DIR [SOURCE_DIR]
set -eu
venv="$1"
src="${2:-.}"
python3 -m venv "$venv"
pip() { "$venv/bin/pip" --no-cache-dir --disable-pip-version-check --quiet "$@"; }
pip install --no-compile --require-hashes --only-binary=:all: -r "$src/deploy/requirements.lock"
# The project: no dependencies (all installed above) and no build isolation (the locked
# setuptools and wheel build it, instead of whatever the index serves).
pip install --no-compile --no-deps --no-build-isolation "$src"
