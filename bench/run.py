"""Scopeline overhead benchmark: ``python bench/run.py [--reps N] [--cases abc]``.

Every measurement runs in a fresh interpreter (bench/worker.py). Within a case each variant's
run is preceded by a baseline run (baseline, v1, baseline, v2, ...), the variant order rotates
from round to round, and the tables report medians, so drift on a busy machine hits both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # the sibling modules, also when run from elsewhere

from cases import CASES, Case  # noqa: E402
from report import Collected, Sample, as_json, format_table, summarise  # noqa: E402

WORKER_TIMEOUT_S = 180

NOTES = """\
How to read: 'median s' = median wall time of the timed region at that variant's N;
'ratio' = time per unit / untraced time per unit (N-scaled for slow peers); '+µs/call' etc. =
added cost per unit. The timed region is the workload only, with the tracer already started
(start-up excluded); Scopeline's background flusher thread runs during it, so its work there is
included. Tearing the tracer down after the region (Scopeline: stop_trace = uninstall + final
flush to the store; hunter: stop; viztracer: stop, save() not run) is timed on its own: it is
EXCLUDED from 'ratio', shown as 'stop ms', and INCLUDED in 'ratio+stop'. 'captured' = calls
(b) / line hits (c) the tracer actually recorded, of those that happened; (a) expects 0."""


def backend() -> str:
    try:
        from scopeline.engine.runtime.select import choose_backend_name
    except Exception as exc:  # report, don't hide, a broken install
        return f"unavailable ({exc!r})"
    name, _reason = choose_backend_name()
    return name


def run_worker(case: Case, variant: str, scratch: Path,
               worker: list[str] | None = None) -> Sample | str:
    """One measurement in a fresh process; a Sample, or the error text."""
    data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=scratch))
    env = {k: v for k, v in os.environ.items() if k != "SCOPELINE_ENV"}  # measure the defaults
    env.update(SCOPELINE_DATA_DIR=str(data_dir), PYTHONHASHSEED="0")
    try:
        # cwd is the scratch dir: no pyproject.toml [tool.scopeline] gets picked up.
        command = worker or [sys.executable, str(BENCH / "worker.py")]
        proc = subprocess.run([*command, case.key, variant],
                              cwd=scratch, env=env, capture_output=True, text=True,
                              timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"timed out after {WORKER_TIMEOUT_S} s"
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        return f"exit {proc.returncode}: {tail}"
    return Sample(**json.loads(proc.stdout.strip().splitlines()[-1]))


def collect(case: Case, reps: int, scratch: Path,
            worker: list[str] | None = None) -> Collected:
    """Each variant's samples, paired with the baseline sample taken just before it.
    ``worker``: the command that measures one variant (default: bench/worker.py)."""
    out = Collected()
    others = [v.key for v in case.variants if v.key != "baseline" and v.arm is not None]
    for round_no in range(reps):
        shift = round_no % max(1, len(others))
        for key in others[shift:] + others[:shift]:
            base = run_worker(case, "baseline", scratch, worker)
            got = run_worker(case, key, scratch, worker)
            if isinstance(base, str):
                out.errors["baseline"] = base
                continue
            out.baselines.append(base)
            if isinstance(got, str):
                out.errors[key] = got
            else:
                out.pairs.setdefault(key, []).append((base, got))
        print(f"  [{case.key}] round {round_no + 1}/{reps} done", file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="rounds per case (default 5)")
    parser.add_argument("--cases", default="abc", help="which cases, e.g. 'b' (default abc)")
    args = parser.parse_args(argv)

    version = platform.python_version()
    meta: dict[str, Any] = {
        "python": version, "implementation": platform.python_implementation(),
        "executable": sys.executable, "scopeline_backend": backend(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_before": os.getloadavg(), "reps": args.reps,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    print(f"Scopeline overhead benchmark — Python {version} ({sys.executable})")
    print(f"Scopeline runtime backend: {meta['scopeline_backend']}")
    print(f"{meta['machine']}; load average {meta['load_before'][0]:.2f}; "
          f"{args.reps} rounds, fresh process per measurement")
    print(NOTES)

    results: dict[str, Any] = {"meta": meta, "cases": {}}
    with tempfile.TemporaryDirectory(prefix="scopeline-bench-") as tmp:
        for key in args.cases:
            case = CASES[key]
            rows = summarise(case, collect(case, args.reps, Path(tmp)))
            print()
            print(format_table(case, rows), flush=True)
            results["cases"][key] = {"title": case.title, "unit": case.unit, "rows": as_json(rows)}
    meta["load_after"] = os.getloadavg()
    print(f"\nload average after: {meta['load_after'][0]:.2f}")

    out = BENCH / "results" / f"py{sys.version_info.major}.{sys.version_info.minor}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
