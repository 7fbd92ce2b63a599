"""A function that is traced in case (a) but never called by the workload.

It lives in its own file so file-scoped tracers (viztracer's include_files) can be pointed at it.
"""

from __future__ import annotations


def other(x: int) -> int:
    return x * 2
