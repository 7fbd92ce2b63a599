"""One measurement in a fresh interpreter: ``python bench/worker.py CASE VARIANT``.

Prints one JSON line. A fresh process per measurement means no tracer can leave hooks, caches
or threads behind for the next one.
"""

from __future__ import annotations

import json
import sys
import time

from cases import CASES


def measure(case_key: str, variant_key: str) -> dict[str, object]:
    case = CASES[case_key]
    variant = case.variant(variant_key)
    if variant.arm is None:
        raise SystemExit(f"{case_key}/{variant_key} is not available here: {variant.note}")
    case.warm_up()  # untraced, identical for every variant: imports, caches, specialisation
    armed = variant.arm(variant.size)  # tracer start-up is not timed
    t0 = time.perf_counter()
    armed.run()  # background threads a tracer started (Scopeline's flusher) run during this
    t1 = time.perf_counter()
    outcome = armed.stop()  # uninstall + final flush, timed on its own
    t2 = time.perf_counter()
    return {"seconds": t1 - t0, "stop_seconds": t2 - t1, "captured": outcome.captured,
            "detail": outcome.detail}


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], sys.argv[2])))
