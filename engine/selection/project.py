"""Project-wide analysis (``scopeline why PATH_OR_PACKAGE``): every function of a directory,
a file or an importable package, each with the mode recommended for it.

Nothing is imported: files are read with libcst, and a package is located with the path
finders alone. Each file's metrics are cached by content hash (``filecache``), so a second
run over unchanged files parses none of them. Call frequency is estimated over the whole
project (a function called in a loop in another module counts), or measured where a stored
session traced the function.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.modes import ModeDecision
from scopeline.engine.options import TraceOptions, parse_options
from scopeline.engine.selection.analysis import (
    FunctionProfile,
    build_profile,
    complexity_threshold,
    dependency_depths,
)
from scopeline.engine.selection.filecache import MetricsCache
from scopeline.engine.selection.frequency import CallIndex, runtime_counters
from scopeline.engine.selection.metrics import FileMetrics
from scopeline.engine.targets_code import target_invalid
from scopeline.engine.targets_load import check_path, load_by_name

Decide = Callable[[FunctionProfile], ModeDecision]
_DOTTED = re.compile(r"[^\W\d]\w*(\.[^\W\d]\w*)*")
_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages"})


@dataclass
class ProjectEntry:
    file: str
    relpath: str
    profile: FunctionProfile | None = None
    decision: ModeDecision | None = None
    error: dict[str, Any] | None = None  # {"code", "message"}: the file, or this decision

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "relpath": self.relpath,
                "function": self.profile.to_dict() if self.profile else None,
                "decision": self.decision.to_dict() if self.decision else None,
                "error": self.error}


@dataclass
class ProjectAnalysis:
    target: str
    root: str
    entries: list[ProjectEntry] = field(default_factory=list)
    files: int = 0
    parsed_files: int = 0  # parsed with libcst in this run
    cached_files: int = 0  # served from the file-hash cache
    decided_by: str = ""

    @property
    def functions(self) -> list[ProjectEntry]:
        return [e for e in self.entries if e.profile is not None]

    @property
    def errors(self) -> list[ProjectEntry]:
        return [e for e in self.entries if e.error is not None]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "root": self.root, "files": self.files,
                "parsed_files": self.parsed_files, "cached_files": self.cached_files,
                "decided_by": self.decided_by, "entries": [e.to_dict() for e in self.entries]}


# --------------------------------------------------------------------------- finding files


def _skip_dir(path: Path) -> bool:
    return (path.name.startswith(".") or path.name in _SKIP_DIRS
            or (path / "pyvenv.cfg").exists())  # a virtual environment is not the project


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not _skip_dir(here / d))
        for name in sorted(filenames):
            if name.endswith((".py", ".pyw")):
                yield here / name


def module_name(file: Path) -> str:
    """The name Python gives ``file`` when the folder above its top package is on sys.path."""
    parts = [file.stem] if file.stem != "__init__" else []
    folder = file.parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts) or file.parent.name


def project_files(path_or_package: str, cwd: str | None = None
                  ) -> tuple[Path, list[tuple[Path, str]]]:
    """(root, [(file, module name)]) for a directory, a .py file or a package/module name."""
    text = path_or_package.strip()
    base = Path(cwd or os.getcwd())
    candidate = base / os.path.expanduser(text)
    if candidate.is_dir():
        root = candidate.resolve()
        return root, [(f, module_name(f)) for f in _walk(root)]
    looks_like_path = text.endswith((".py", ".pyw")) or "/" in text or os.sep in text
    if candidate.is_file() or looks_like_path:
        file = Path(check_path(text, str(base)))  # a missing path: target_invalid, nearest
        if not file.name.endswith((".py", ".pyw")):
            raise target_invalid(f"{text} is not a Python file", (), path=str(file))
        return file.parent, [(file, module_name(file))]
    if not _DOTTED.fullmatch(text):
        raise target_invalid(f"{text!r} is neither a directory, a .py file nor a package name",
                             (), extra=["Give a folder, a file.py, or a dotted package name."])
    view = load_by_name(text, load=False)  # located by the path finders: nothing runs
    if not view.file:
        raise target_invalid(f"{text} has no source file", (), module=text)
    file = Path(view.file)
    if file.name == "__init__.py":
        root = file.parent
        files = []
        for f in _walk(root):
            rel = f.relative_to(root).with_suffix("").parts
            rel = rel[:-1] if rel[-1] == "__init__" else rel
            files.append((f, ".".join((text, *rel))))
        return root, files
    return file.parent, [(file, text)]


# --------------------------------------------------------------------------- deciding


def placeholder_decision(profile: FunctionProfile, options: TraceOptions | None = None
                         ) -> ModeDecision:
    """PLACEHOLDER, used only while ``selection.engine.determine_mode`` is not installed: a
    few plain rules over the profile, and every reason says it is the placeholder."""
    from scopeline.engine.modes import injection_refusal

    refusal = injection_refusal("compile_time")
    g = (options.granularity if options and options.granularity
         else profile.recommended_granularity)
    if not profile.has_source:
        mode, conf, why = "runtime", 0.9, "no source to inject into; runtime hooks need none"
    elif profile.frequency == "high":
        mode, conf, why = "runtime", 0.7, (f"it runs often ({profile.frequency_source}); "
                                           "runtime hooks cost least per call")
    elif refusal is not None:
        mode, conf, why = "runtime", 0.8, refusal.message
    elif g in ("expression", "variable"):
        mode, conf, why = "compile_time", 0.6, f"{g} granularity needs injected probes"
    elif g == "line":
        mode, conf, why = "hybrid", 0.6, (f"cyclomatic complexity {profile.cyclomatic} or "
                                          f"loop nesting {profile.loop_depth}: runtime timing "
                                          "with injected line locals")
    else:
        mode, conf, why = "runtime", 0.7, "calls and returns are runtime hooks' work"
    return ModeDecision(mode, conf, f"placeholder decision: {why}", strategy="placeholder")


def default_decider(options: TraceOptions | None = None) -> tuple[Decide, str]:
    """``selection.engine.determine_mode`` on each function; the placeholder until it exists."""
    try:
        from scopeline.engine.selection.engine import determine_mode
    except ImportError:
        return (lambda p: placeholder_decision(p, options),
                "placeholder (scopeline.engine.selection.engine is not installed)")
    from scopeline.engine.selection.context import read_shared

    opts = options if options is not None else parse_options()
    shared = read_shared()  # settings and feature flags: once for the whole listing

    def decide(profile: FunctionProfile) -> ModeDecision:
        # the listing's own profile: call frequency estimated over the whole project
        return determine_mode(f"{profile.file}:{profile.qualname}", opts, profile=profile,
                              shared=shared)

    return decide, "selection engine (determine_mode)"


# --------------------------------------------------------------------------- analysing


def analyze_project(path_or_package: str, *, decide: Decide | None = None,
                    options: TraceOptions | None = None, cwd: str | None = None,
                    cache: MetricsCache | None = None) -> ProjectAnalysis:
    """Every function of ``path_or_package`` with its profile and recommended mode. A file
    that does not parse is one entry carrying the error; the others are listed as usual."""
    root, files = project_files(path_or_package, cwd)
    if not files:
        raise target_invalid(f"{path_or_package} holds no Python files", (), path=str(root))
    cache = cache or MetricsCache()
    result = ProjectAnalysis(target=path_or_package, root=str(root), files=len(files))
    measured: list[tuple[Path, str, FileMetrics]] = []
    for file, module in files:
        rel = os.path.relpath(file, root)
        try:
            measured.append((file, module, cache.metrics(str(file))))
        except ScopelineError as exc:
            result.entries.append(ProjectEntry(str(file), rel, error={
                "code": exc.code, "message": exc.message}))
    cache.save()
    result.parsed_files, result.cached_files = cache.parsed, cache.cached
    if decide is None:
        decide, result.decided_by = default_decider(options)
    else:
        result.decided_by = getattr(decide, "__name__", "custom")
    index = CallIndex([fm for _, _, fm in measured], "the project")
    counters = runtime_counters()
    threshold = complexity_threshold()
    for file, module, fm in measured:
        depths = dependency_depths(fm)
        rel = os.path.relpath(file, root)
        for func in sorted(fm.functions, key=lambda f: (f.first_line, f.qualname)):
            profile = build_profile(func, module=module, file=str(file), has_source=True,
                                    index=index, counters=counters, threshold=threshold,
                                    dependency_depth=depths.get(func.qualname, 0))
            entry = ProjectEntry(str(file), rel, profile)
            try:
                entry.decision = decide(profile)
            except ScopelineError as exc:  # one function's decision must not cost the rest
                entry.error = {"code": exc.code, "message": exc.message}
            result.entries.append(entry)
    result.entries.sort(key=lambda e: (e.relpath, e.profile.first_line if e.profile else 0))
    return result
