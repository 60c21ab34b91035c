#!/usr/bin/env bash
# Installs OpenSpending's own tools for tests/interop, once, under CACHE (the tests pass var/interop):
#   setup.sh node CACHE    os-types, from package.json and package-lock.json (npm ci), in CACHE/node
#   setup.sh fiscal CACHE  datapackage-pipelines-fiscal, from requirements-fiscal.txt, in CACHE/fiscal-venv, on
#                          pyenv's Python $FISCAL_PYTHON (installed by pyenv if it is missing)
# Each install keeps a copy of what it was made from; while that matches, a second run does nothing. A lock lets two
# test processes (pytest-xdist workers) call it at once.
set -euo pipefail

FISCAL_PYTHON=3.6.15
FISCAL_PIP=21.3.1  # the last pip for Python 3.6
HERE="$(cd "$(dirname "$0")" && pwd)"
PART="${1:?usage: setup.sh node|fiscal CACHE}"
CACHE="${2:?usage: setup.sh node|fiscal CACHE}"

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9

# True when $1 holds copies of every later argument (files), byte for byte.
up_to_date() {
  local target="$1"
  shift
  for file in "$@"; do
    cmp -s "$file" "$target/.made-from/$(basename "$file")" || return 1
  done
}

remember() {
  local target="$1"
  shift
  mkdir -p "$target/.made-from"
  cp "$@" "$target/.made-from/"
}

install_node() {
  local target="$CACHE/node"
  up_to_date "$target" "$HERE/package.json" "$HERE/package-lock.json" && return
  rm -rf "$target"
  mkdir -p "$target"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$target/"
  (cd "$target" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  remember "$target" "$HERE/package.json" "$HERE/package-lock.json"
}

install_fiscal() {
  local target="$CACHE/fiscal-venv" python
  local version_file="$CACHE/fiscal-python-version"
  echo "$FISCAL_PYTHON $FISCAL_PIP" >"$version_file"
  up_to_date "$target" "$HERE/requirements-fiscal.txt" "$version_file" && return
  pyenv install --skip-existing "$FISCAL_PYTHON"
  python="$(pyenv root)/versions/$FISCAL_PYTHON/bin/python"
  rm -rf "$target"
  "$python" -m venv "$target"
  "$target/bin/pip" install --quiet "pip==$FISCAL_PIP"
  # --no-deps: the file pins every package; `pip check` then proves the set is whole and consistent.
  "$target/bin/pip" install --quiet --no-deps -r "$HERE/requirements-fiscal.txt"
  "$target/bin/pip" check
  remember "$target" "$HERE/requirements-fiscal.txt" "$version_file"
}

case "$PART" in
  node) install_node ;;
  fiscal) install_fiscal ;;
  *) echo "setup.sh: unknown part $PART (node or fiscal)" >&2; exit 2 ;;
esac
