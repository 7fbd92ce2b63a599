"""Fidelity of compile-time capture against suites nobody here wrote: ``python bench/fidelity.py``.

Each chosen standard-library module's own tests run twice, each in a fresh interpreter
(bench/fidelity_worker.py): plain, and with the module instrumented at line granularity capturing
all locals. Tests run, failures, errors and skips must be identical (same test ids, not only the
same counts), and the instrumented run must have captured events.
``--suites colorsys,textwrap`` picks a subset; ``--json FILE`` also writes the raw results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
WORKER = BENCH / "fidelity_worker.py"
WORKER_TIMEOUT_S = 900

# module -> its test module in the standard library's own test package (on 3.11 and 3.12).
SUITES: dict[str, str] = {
    "colorsys": "test.test_colorsys",
    "textwrap": "test.test_textwrap",
    "fnmatch": "test.test_fnmatch",
    "shlex": "test.test_shlex",
    "difflib": "test.test_difflib",  # opt-in (--suites difflib): >10 min instrumented
}
DEFAULT = ("colorsys", "textwrap", "fnmatch", "shlex")
SHORT = ("colorsys", "textwrap")  # what tests/test_fidelity.py runs: a few seconds each


@dataclass
class Comparison:
    module: str
    plain: dict[str, Any]
    instrumented: dict[str, Any]
    differences: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.differences

    @property
    def events(self) -> int:
        return sum(self.instrumented.get("captured", {}).values())


def run_arm(module: str, arm: str, scratch: Path) -> dict[str, Any]:
    """One suite run in a fresh process, so one arm's instrumentation cannot leak into the other."""
    data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=scratch))
    env = {k: v for k, v in os.environ.items() if k != "SCOPELINE_ENV"}
    env.update(SCOPELINE_DATA_DIR=str(data_dir), PYTHONHASHSEED="0")
    # cwd is the scratch dir: no pyproject.toml [tool.scopeline] gets picked up.
    proc = subprocess.run([sys.executable, str(WORKER), module, SUITES[module], arm],
                          cwd=scratch, env=env, capture_output=True, text=True,
                          timeout=WORKER_TIMEOUT_S)
    if proc.returncode != 0:
        raise RuntimeError(f"{module}/{arm}: exit {proc.returncode}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ids(outcome: dict[str, Any], key: str) -> list[str]:
    return sorted(item[0] if isinstance(item, list) else item for item in outcome[key])


def compare(module: str, plain: dict[str, Any], inst: dict[str, Any]) -> Comparison:
    out = Comparison(module, plain, inst)
    if plain["tests_run"] != inst["tests_run"]:
        out.differences.append(f"tests run {plain['tests_run']} vs {inst['tests_run']}")
    for key in ("failures", "errors", "skipped", "unexpected_successes"):
        before, after = _ids(plain, key), _ids(inst, key)
        if before != after:
            only_inst = sorted(set(after) - set(before))
            only_plain = sorted(set(before) - set(after))
            out.differences.append(f"{key}: only instrumented {only_inst}, "
                                   f"only plain {only_plain}")
    if plain["expected_failures"] != inst["expected_failures"]:
        out.differences.append("expected failures "
                               f"{plain['expected_failures']} vs {inst['expected_failures']}")
    return out


def check(module: str, scratch: Path) -> Comparison:
    return compare(module, run_arm(module, "plain", scratch),
                   run_arm(module, "instrumented", scratch))


def _fes(o: dict[str, Any]) -> str:
    return f"{len(o['failures'])}/{len(o['errors'])}/{len(o['skipped'])}"


def format_table(rows: list[Comparison]) -> str:
    head = (f"{'suite':<20} {'run':>9} {'fail/err/skip':>15} {'identical':>9} "
            f"{'events':>11} {'injected fns':>12} {'s plain':>8} {'s instr':>8} {'x':>6}")
    lines = [head, "-" * len(head)]
    for r in rows:
        p, i = r.plain, r.instrumented
        lines.append(
            f"{SUITES[r.module]:<20} {p['tests_run']:>4}/{i['tests_run']:<4} "
            f"{_fes(p) + ' ' + _fes(i):>15} {'yes' if r.identical else 'NO':>9} "
            f"{r.events:>11,} {i['injected_functions']:>5}+{i['runtime_functions']:<6} "
            f"{p['seconds']:>8.2f} {i['seconds']:>8.2f} {i['seconds'] / p['seconds']:>6.1f}")
    return "\n".join(lines)


def details(r: Comparison) -> list[str]:
    """What a reader needs beyond the table: differences with tracebacks, fallbacks, drops."""
    i = r.instrumented
    out = [f"{r.module}: stored events {i['stored']}"]
    if i["fallbacks"] or i["runtime_functions"]:
        out.append(f"  fallbacks to runtime: {i['fallbacks']}")
    if i["skipped_lines"] or i["skipped_calls"] or i["sampling_rate"] < 1.0:
        out.append(f"  DROPPED: lines {i['skipped_lines']} calls {i['skipped_calls']} "
                   f"sampling {i['sampling_rate']}")
    for diff in r.differences:
        out.append(f"  DIFFERENCE: {diff}")
    if r.differences:
        for key in ("failures", "errors"):
            plain_ids = set(_ids(r.plain, key))
            for test_id, tb in i[key]:
                if test_id not in plain_ids:
                    out.append(f"  --- instrumented-only {key[:-1]} in {test_id}:\n{tb}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", default=",".join(DEFAULT),
                        help=f"comma-separated modules of {','.join(SUITES)} "
                             f"(default: {','.join(DEFAULT)})")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    modules = [m for m in args.suites.split(",") if m]
    unknown = [m for m in modules if m not in SUITES]
    if unknown:
        parser.error(f"unknown suites {unknown}; known: {list(SUITES)}")

    print(f"Scopeline compile-time fidelity — Python {platform.python_version()} "
          f"({sys.executable})")
    print("Each suite: plain and instrumented (granularity=line, all locals, every function of "
          "the module), each in a fresh process.\n'run' and 'fail/err/skip' are plain then "
          "instrumented; 'injected fns' = injected + runtime-fallback functions.")
    rows = []
    with tempfile.TemporaryDirectory(prefix="scopeline-fidelity-") as tmp:
        for module in modules:
            rows.append(check(module, Path(tmp)))
            print(f"  [{module}] done", file=sys.stderr, flush=True)
    print()
    print(format_table(rows))
    print()
    for row in rows:
        print("\n".join(details(row)))
    if args.json:
        args.json.write_text(json.dumps([vars(r) for r in rows], indent=2))
    ok = all(r.identical and r.events > 0 for r in rows)
    print(f"\n{'ALL IDENTICAL' if ok else 'MISMATCH'}: {len(rows)} suites")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
