#!/usr/bin/env bash
# The whole test suite, set-up included, once per runtime backend:
#   Python 3.11 (sys.settrace + code swapping) and Python 3.12 (sys.monitoring).
# Each interpreter gets its own virtual environment under .venv-test/ with the project
# installed (editable) and its test dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

find_py312() {
  if command -v pyenv >/dev/null 2>&1; then
    PYENV_VERSION=3.12.1 pyenv which python3.12 2>/dev/null && return 0
  fi
  command -v python3.12 2>/dev/null && return 0
  return 1
}

PY311=${SCOPELINE_PY311:-python3}
if ! "$PY311" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
  PY311=$(command -v python3.11 || true)
fi
PY312=${SCOPELINE_PY312:-$(find_py312 || true)}
if [ -z "${PY311:-}" ] || ! "$PY311" -c 'import sys; assert sys.version_info[:2] == (3, 11)'; then
  echo "tests/run.sh: Python 3.11 not found (python3 or python3.11); it runs the settrace backend" >&2
  exit 1
fi
if [ -z "${PY312:-}" ] || ! "$PY312" -c 'import sys; assert sys.version_info[:2] == (3, 12)'; then
  echo "tests/run.sh: Python 3.12 not found: tried 'PYENV_VERSION=3.12.1 pyenv which python3.12'" \
       "and python3.12 on PATH; it runs the sys.monitoring backend" >&2
  exit 1
fi

status=0
pythons=()
for py in "$PY311" "$PY312"; do
  ver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  venv=.venv-test/py$ver
  if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"
  echo "=== Python $ver ==="
  if [ "$ver" = "3.11" ]; then
    "$venv/bin/ruff" check . || status=1
  fi
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" || status=1
  pythons+=("$PWD/$venv/bin/python")
done

# The VS Code extension: TypeScript build, its package, and VS Code's own DAP test client
# (@vscode/debugadapter-testsupport) driving the adapter, once per Python.
if ! command -v npm >/dev/null 2>&1; then
  apt-get install -y nodejs npm >/dev/null 2>&1 || true
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "tests/run.sh: npm not found (and apt-get could not install it): it builds and tests" \
       "vscode-extension/" >&2
  exit 1
fi
echo "=== VS Code extension ==="
# (each step says `|| exit 1`: set -e does not apply inside a subshell tested with ||)
(
  cd vscode-extension || exit 1
  npm ci --no-audit --no-fund --loglevel=error || exit 1
  npm run --silent compile || exit 1
  npm run --silent package >/dev/null || exit 1
  for py in "${pythons[@]}"; do
    SCOPELINE_PYTHON="$py" npm test --silent || exit 1
  done
  # A real VS Code: code-server + Chromium driven by playwright-core (installed once into
  # a cache folder): lenses, "why", a tracepoint session, a breakpoint set in the gutter.
  echo "=== VS Code (code-server) end to end ==="
  e2e_dir=$(D="${SCOPELINE_E2E_DIR:-$HOME/.cache/scopeline-e2e}" bash e2e/setup.sh) || exit 1
  port=$("${pythons[0]}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  D="$e2e_dir" VSIX="$PWD/scopeline.vsix" PYTHON="${pythons[0]}" PORT="$port" \
      SHOTS="$e2e_dir/shots" bash e2e/run.sh || exit 1
) || status=1
exit $status
