"""Code lenses: a mode for every function of a 5,000-line file, fast enough for an editor.

``python bench/lenses.py [--lines N] [--runs R] [--edits E] [--json FILE]``

Generates a realistic file (``lenses_source.generate``: classes, methods, properties, caches,
loops, nested functions, generators, async code; about 300 functions in 5,000 lines) and
times ``selection.perfile.decide_file`` on it, each run in a fresh process (the modules
imported, the calibration already on disk, every analysis cache empty):

* cold — the first call (the selection engine's lazy imports done and timed before it);
* warm — again with the text unchanged (median of E calls);
* after an edit — one line changed or added inside a different function each time, the
  edits adding up as typing does, the editor's unsaved text passed as ``source`` (median of
  E edits).

Then ``scopeline why FILE`` (``analyze_project``, one ``determine_mode`` per function) on the
same file and on ``tests/fixtures/sample_project``: the first listing (metrics cache empty)
and a second one. Each figure is the median over R runs; milliseconds of wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SAMPLE_PROJECT = ROOT / "tests" / "fixtures" / "sample_project"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def worker(path: str, edits: int) -> dict[str, object]:
    """One run, in this (fresh) process."""
    from scopeline.engine.selection.perfile import decide_file
    from scopeline.engine.selection.project import analyze_project

    # decide_file imports the selection engine on first use; timed apart, so "cold" is the
    # analysis of the file (a server has them loaded after its first file; this environment
    # sets PYTHONDONTWRITEBYTECODE, making the imports compile from source every time)
    t0 = time.perf_counter()
    import scopeline.engine.api  # noqa: F401
    import scopeline.engine.compile_time.backend  # noqa: F401
    import scopeline.engine.selection.capabilities  # noqa: F401
    import scopeline.engine.selection.context  # noqa: F401
    import scopeline.engine.selection.engine  # noqa: F401
    imports = time.perf_counter() - t0
    text = Path(path).read_text()
    t0 = time.perf_counter()
    decided = decide_file(path, source=text)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(edits):
        t0 = time.perf_counter()
        decide_file(path, source=text)
        warm.append(time.perf_counter() - t0)
    lines = text.splitlines(keepends=True)
    after_edit = []
    current = decided
    for i in range(edits):
        # the edits add up, as typing does: each in another function, found where the last
        # result says it is; even edits change a line, odd ones add one (moving the rest)
        bodies = [p.last_line for p, _ in current if p.last_line - p.first_line >= 3]
        at = bodies[(i * 37) % len(bodies)] - 1  # a function's last line, 0-based
        if i % 2:
            indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
            lines.insert(at + 1, f"{indent}_edit_{i} = {i}\n")
        else:
            lines[at] = lines[at].rstrip("\n") + f"  # edit {i}\n"
        t0 = time.perf_counter()
        current = decide_file(path, source="".join(lines))
        after_edit.append(time.perf_counter() - t0)
    listing = []
    for _ in range(2):
        t0 = time.perf_counter()
        result = analyze_project(path)
        listing.append(time.perf_counter() - t0)
    small = []
    for _ in range(2):
        t0 = time.perf_counter()
        analyze_project(str(SAMPLE_PROJECT))
        small.append(time.perf_counter() - t0)
    modes: dict[str, int] = {}
    for _, decision in decided:
        modes[decision.mode] = modes.get(decision.mode, 0) + 1
    return {"functions": len(decided), "modes": modes, "imports": imports, "cold": cold,
            "warm": statistics.median(warm), "after_edit": statistics.median(after_edit),
            "why_file_first": listing[0], "why_file_second": listing[1],
            "listed": len(result.functions),
            "why_sample_first": small[0], "why_sample_second": small[1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--edits", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--worker", nargs=2, metavar=("FILE", "EDITS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]))))
        return 0

    sys.path.insert(0, str(BENCH))
    from lenses_source import generate

    folder = Path(tempfile.mkdtemp(prefix="scopeline-lenses-"))
    source = folder / "orders_generated.py"
    source.write_text(generate(args.lines))
    env = {**os.environ, "SCOPELINE_DATA_DIR": str(folder / "data")}
    # the calibration on disk first (measured once, ~1 s): cold means the analysis caches
    subprocess.run([sys.executable, "-c", "from scopeline.engine.selection.costmodel import "
                    "calibrate; calibrate()"], env=env, check=True)
    runs = []
    for run in range(args.runs):
        # a fresh data dir per run keeps the metrics cache of `scopeline why` cold too
        env["SCOPELINE_DATA_DIR"] = str(folder / f"data-{run}")
        (folder / f"data-{run}").mkdir()
        calibration = folder / "data" / "calibration.json"
        (folder / f"data-{run}" / "calibration.json").write_bytes(calibration.read_bytes())
        out = subprocess.run([sys.executable, __file__, "--worker", str(source),
                              str(args.edits)], env=env, check=True, capture_output=True,
                             text=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    keys = ("imports", "cold", "warm", "after_edit", "why_file_first", "why_file_second",
            "why_sample_first", "why_sample_second")
    median = {k: _ms(statistics.median(r[k] for r in runs)) for k in keys}
    n_lines = len(source.read_text().splitlines())
    print(f"Python {sys.version.split()[0]} · {source.name}: {n_lines:,} lines, "
          f"{runs[0]['functions']} functions ({runs[0]['modes']}) · median of {args.runs} "
          "fresh processes")
    print(f"  decide_file   cold {median['cold']:>9,.1f} ms   warm {median['warm']:>7,.1f} ms"
          f"   after a one-line edit {median['after_edit']:>7,.1f} ms")
    print(f"  (before cold: the selection engine's first import {median['imports']:,.1f} ms)")
    print(f"  why FILE      first {median['why_file_first']:>8,.1f} ms   second "
          f"{median['why_file_second']:>7,.1f} ms   ({runs[0]['listed']} functions)")
    print(f"  why sample_project  first {median['why_sample_first']:>6,.1f} ms   second "
          f"{median['why_sample_second']:>7,.1f} ms")
    if args.json:
        args.json.write_text(json.dumps({"python": sys.version.split()[0], "lines": n_lines,
                                         "median_ms": median, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
