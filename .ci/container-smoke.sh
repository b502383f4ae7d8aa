#!/usr/bin/env bash
# Container smoke test without a Docker engine: run the Dockerfile's install step (the same
# script) in a fresh venv, prove TensorFlow is absent, and run the image's health check.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sh deploy/install-runtime.sh "$work/venv" .
if "$work/venv/bin/python" -c "import tensorflow" 2>/dev/null; then
  echo "container smoke: FAIL, TensorFlow is importable in the runtime environment" >&2
  exit 1
fi
mkdir "$work/data"
# A syntactically valid dummy token: --check validates configuration, it does not call Telegram.
(cd "$work/data" && TELEGRAM_BOT_TOKEN=123456:smoke-test-token PALSY_DATA_DIR="$work/data" \
  "$work/venv/bin/palsy-bot" --check)
echo "container smoke: OK (no TensorFlow; palsy-bot --check passed)"
