"""What the debuggee needs on ``sys.path`` to load the agent, and nothing more.

The program may run on another interpreter or virtual environment than the engine. Putting the
engine's site-packages on its path would leak every package of ours into the user's program;
instead a small folder holds links to exactly two packages: ``scopeline`` (the root module and
``scopeline.engine``, standard library only on the agent's side) and ``debugpy`` (loaded only
when the user sets an ordinary breakpoint; it vendors everything it needs).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _link(target: Path, link: Path) -> None:
    if link.is_symlink() and os.readlink(link) == str(target):
        return
    tmp = link.with_name(f".{link.name}.{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target)
    os.replace(tmp, link)  # atomic: another engine may be building the same folder


def agent_path(base: Path | None = None) -> str:
    """A folder to put first on the debuggee's PYTHONPATH (built once, links refreshed)."""
    import debugpy
    import scopeline
    import scopeline.engine

    base = base or Path(tempfile.gettempdir()) / f"scopeline-agent-{os.getuid()}"
    root = base / "scopeline"
    root.mkdir(parents=True, exist_ok=True)
    _link(Path(scopeline.__file__).resolve(), root / "__init__.py")
    _link(Path(scopeline.engine.__path__[0]).resolve(), root / "engine")
    _link(Path(debugpy.__path__[0]).resolve(), base / "debugpy")
    return str(base)
