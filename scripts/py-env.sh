#!/usr/bin/env bash
# Prints the path of a Python virtual environment holding exactly the packages pinned in a
# requirements file, creating or refreshing it first.
#
# Usage: scripts/py-env.sh NAME REQUIREMENTS_FILE
# The environment lives in target/py/NAME (never committed). It is rebuilt from scratch when the
# requirements file changes, so a machine's own installs (an older client, say) never leak in.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name="$1"
requirements="$2"
venv="${CARGO_TARGET_DIR:-$ROOT/target}/py/$name"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --require-virtualenv -r "$requirements" </dev/null >&2
  echo "$want" >"$stamp"
fi
echo "$venv"
