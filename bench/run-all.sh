#!/usr/bin/env bash
# Run the overhead benchmark on Python 3.11 (sys.settrace backend) and 3.12 (sys.monitoring
# backend), each in its own venv under .venv-bench/ with `pip install -e .[bench]`.
# Usage: bash bench/run-all.sh [bench/run.py options, e.g. --reps 3]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

die() { echo "run-all.sh: $*" >&2; exit 1; }

is_version() {  # is_version PYTHON 3.11
    [ -n "$1" ] && [ -x "$(command -v "$1" 2>/dev/null || true)" ] &&
        [ "$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$2" ]
}

find_311() {
    for candidate in python3 python3.11 "$ROOT/.venv311/bin/python"; do
        if is_version "$candidate" 3.11; then command -v "$candidate"; return; fi
    done
    die "no Python 3.11 found (tried python3, python3.11, .venv311/bin/python)"
}

find_312() {
    command -v pyenv >/dev/null || die "pyenv not found: it is how Python 3.12 is located"
    local py
    py="$(PYENV_VERSION=3.12.1 pyenv which python3.12 2>/dev/null)" ||
        die "Python 3.12 missing: 'PYENV_VERSION=3.12.1 pyenv which python3.12' failed" \
            "(install it with: pyenv install 3.12.1)"
    is_version "$py" 3.12 || die "$py is not Python 3.12"
    echo "$py"
}

ensure_venv() {  # ensure_venv BASE_PYTHON VENV_DIR
    local base="$1" venv="$2" stamp="$2/.bench-installed"
    if [ ! -x "$venv/bin/python" ]; then
        echo "== creating $venv from $base" >&2
        "$base" -m venv "$venv"
    fi
    # Reinstall only when the venv is new or pyproject.toml changed since the last install.
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "== pip install -e .[bench] into $venv" >&2
        "$venv/bin/python" -m pip install --disable-pip-version-check -e ".[bench]" \
            >"$venv/pip-install.log" 2>&1 ||
            { tail -20 "$venv/pip-install.log" >&2; die "pip install failed in $venv"; }
        touch "$stamp"
    fi
}

PY311="$(find_311)"
PY312="$(find_312)"
ensure_venv "$PY311" .venv-bench/py3.11
ensure_venv "$PY312" .venv-bench/py3.12

for venv in .venv-bench/py3.11 .venv-bench/py3.12; do
    echo
    echo "================================================================================"
    "$venv/bin/python" bench/run.py "$@"
done
