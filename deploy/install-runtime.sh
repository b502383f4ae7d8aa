#!/bin/sh
# Install the runtime (no TensorFlow, no training extras) into a fresh virtual environment.
# Used by the Dockerfile and by CI's container smoke test, so both install exactly the same way.
# Usage: deploy/install-runtime.sh VENV_DIR [SOURCE_DIR]
set -eu
venv="$1"
src="${2:-.}"
python3 -m venv "$venv"
"$venv/bin/pip" install --no-cache-dir --disable-pip-version-check --quiet --no-compile "$src"
