"""Target analysis (seed ``analyze_target_complexity``, ``compilation_required?``).

For every function a target names: its size, cyclomatic complexity, loop nesting, calls out,
whether it is a generator or async, whether it has source, how often it runs (measured by a
session when one traced it, else estimated from its call sites), and the granularity its
code calls for. Nothing of the user's is imported or run: sources are read with libcst.
"""

from __future__ import annotations

import os
import threading
import types
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any

from scopeline.engine import config
from scopeline.engine.errors import ScopelineError
from scopeline.engine.options import TraceOptions, parse_options
from scopeline.engine.selection.filecache import MetricsCache
from scopeline.engine.selection.frequency import (
    CallIndex,
    RuntimeCounters,
    highest,
    level_of_rate,
    runtime_counters,
    static_frequency,
)
from scopeline.engine.selection.metrics import FileMetrics, FunctionMetrics, code_metrics
from scopeline.engine.targets import ResolvedTarget, TargetSpec, parse_target, resolve

GRANULARITIES = ("function", "line", "expression", "variable")
THREAD_NOTE = ("a thread target is traced by runtime hooks as the thread runs: which "
               "functions it will run is not known before it runs, so there is no source to "
               "analyse")


@dataclass(frozen=True)
class FunctionProfile:
    qualname: str
    module: str
    file: str | None
    first_line: int
    last_line: int
    size_lines: int
    cyclomatic: int
    loop_depth: int
    calls_out: int
    is_generator: bool
    is_async: bool
    has_source: bool
    frequency: str  # "low" | "medium" | "high"
    frequency_source: str  # words: where `frequency` comes from
    calls_per_second: float | None  # measured rate when a session ran it, else None
    recommended_granularity: str  # "function" | "line" | "expression" | "variable"
    complexity_score: int
    dependency_depth: int = 0  # longest chain of calls into functions of the same module
    def_line: int = 0  # the `def` line (first_line is the first decorator's)

    @property
    def display(self) -> str:
        return f"{self.module}:{self.qualname}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TargetAnalysis:
    target: str
    kind: str
    functions: list[FunctionProfile]
    complexity_score: int
    function_count: int
    cyclomatic_complexity: int  # the highest of its functions'
    dependency_depth: int
    estimated_execution_frequency: str
    recommended_granularity: str  # the finest its functions call for
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["functions"] = [f.to_dict() for f in self.functions]
        return out


# --------------------------------------------------------------------------- scoring


def complexity_threshold() -> int:
    return int(config.get_with_fallback("unified.auto_mode_thresholds.complexity_for_ast", 10))


def recommend_granularity(cyclomatic: int, loop_depth: int, threshold: int) -> str:
    """One step finer for complexity at the threshold, another at twice it, another for
    nested loops: branches are explained by lines, then by sub-expression values; state
    that evolves through nested loops by every assignment."""
    level = (cyclomatic >= threshold) + (cyclomatic >= 2 * threshold) + (loop_depth >= 2)
    return GRANULARITIES[min(level, 3)]


def complexity_score(m: FunctionMetrics) -> int:
    """Cyclomatic complexity, plus 2 per level of loop nesting, 1 per 25 lines, and 1 for a
    generator or coroutine (suspended frames make a trace harder to follow)."""
    return (m.cyclomatic + 2 * m.loop_depth + m.size_lines // 25
            + int(m.is_generator or m.is_async))


def dependency_depths(fm: FileMetrics, only: str | None = None) -> dict[str, int]:
    """For each def (or just ``only``): how many levels of calls into other defs of the same
    file lie below it (breadth first, so recursion and cycles end)."""
    by_name: dict[str, list[str]] = {}
    for func in fm.functions:
        by_name.setdefault(func.name, []).append(func.qualname)
    callees = {f.qualname: {q for name, _ in f.calls for q in by_name.get(name, ())}
               for f in fm.functions}
    out: dict[str, int] = {}
    for start in [only] if only in callees else callees:
        seen, level, frontier = {start}, 0, {start}
        while True:
            frontier = {c for q in frontier for c in callees.get(q, ())} - seen
            if not frontier:
                break
            seen |= frontier
            level += 1
        out[start] = level
    return out


def build_profile(m: FunctionMetrics, *, module: str, file: str | None, has_source: bool,
                  index: CallIndex | None, counters: RuntimeCounters, threshold: int,
                  dependency_depth: int = 0, static_words: str | None = None
                  ) -> FunctionProfile:
    measured = counters.lookup(file, module, m.qualname)
    if measured is not None:
        frequency, words, rate = level_of_rate(measured.rate), measured.words(), measured.rate
    elif index is not None:
        (frequency, words), rate = static_frequency(m, index), None
    else:
        frequency, words, rate = "low", static_words or "static: no source to look for " \
            "call sites", None
    return FunctionProfile(
        qualname=m.qualname, module=module, file=file, first_line=m.first_line,
        last_line=m.last_line, size_lines=max(0, m.size_lines), cyclomatic=m.cyclomatic,
        loop_depth=m.loop_depth, calls_out=m.calls_out, is_generator=m.is_generator,
        is_async=m.is_async, has_source=has_source, frequency=frequency,
        frequency_source=words, calls_per_second=rate,
        recommended_granularity=recommend_granularity(m.cyclomatic, m.loop_depth, threshold),
        complexity_score=complexity_score(m), dependency_depth=dependency_depth,
        def_line=m.def_line)


def summarize(target: str, kind: str, functions: list[FunctionProfile],
              notes: list[str]) -> TargetAnalysis:
    granularity = GRANULARITIES[max((GRANULARITIES.index(f.recommended_granularity)
                                     for f in functions), default=0)]
    return TargetAnalysis(
        target=target, kind=kind, functions=functions,
        complexity_score=max((f.complexity_score for f in functions), default=0),
        function_count=len(functions),
        cyclomatic_complexity=max((f.cyclomatic for f in functions), default=0),
        dependency_depth=max((f.dependency_depth for f in functions), default=0),
        estimated_execution_frequency=highest(f.frequency for f in functions),
        recommended_granularity=granularity, notes=notes)


# --------------------------------------------------------------------------- targets


def has_python_source(file: str | None) -> bool:
    return bool(file) and file.endswith((".py", ".pyw")) and os.path.isfile(file)


# A file's call index and dependency depths, by its metrics (the same FileMetrics object comes
# back from the metrics cache while the file is unchanged): deciding one function of a large
# file at a time would otherwise index the whole file again for each.
_PER_FILE: OrderedDict[int, tuple[FileMetrics, CallIndex, dict[str, int]]] = OrderedDict()
_PER_FILE_SIZE = 64
_per_file_lock = threading.Lock()


def module_index(fm: FileMetrics) -> tuple[CallIndex, dict[str, int]]:
    """(call sites within the file, each def's dependency depth) for one file's metrics."""
    with _per_file_lock:
        found = _PER_FILE.get(id(fm))
        if found is not None and found[0] is fm:
            _PER_FILE.move_to_end(id(fm))
            return found[1], found[2]
    index, depths = CallIndex([fm], "its module"), dependency_depths(fm)
    with _per_file_lock:
        _PER_FILE[id(fm)] = (fm, index, depths)  # holding fm keeps its id from being reused
        while len(_PER_FILE) > _PER_FILE_SIZE:
            _PER_FILE.popitem(last=False)
    return index, depths


class _Analyzer:
    """Shared by the items of one call: each file is measured once, counters read once."""

    def __init__(self) -> None:
        self.cache = MetricsCache()
        self.counters = runtime_counters()
        self.threshold = complexity_threshold()
        self.files: dict[str, tuple[FileMetrics, CallIndex, dict[str, int]]] = {}

    def file(self, path: str) -> tuple[FileMetrics, CallIndex, dict[str, int]]:
        if path not in self.files:
            fm = self.cache.metrics(path)
            self.files[path] = (fm, *module_index(fm))
        return self.files[path]

    def unit(self, rt: ResolvedTarget) -> FunctionProfile:
        assert rt.code is not None
        code, module = rt.code, rt.module or ""
        if has_python_source(rt.file):
            assert rt.file is not None
            try:
                fm, index, depths = self.file(rt.file)
            except ScopelineError as exc:  # Python compiled it but libcst cannot read it
                return build_profile(code_metrics(code), module=module, file=rt.file,
                                     has_source=True, index=None, counters=self.counters,
                                     threshold=self.threshold,
                                     static_words=f"static: source not analysable "
                                                  f"({exc.message})")
            match = _match(fm, code)
            if match is not None:
                return build_profile(match, module=module, file=rt.file, has_source=True,
                                     index=index, counters=self.counters,
                                     threshold=self.threshold,
                                     dependency_depth=depths.get(match.qualname, 0))
            # a lambda, or a def the file no longer holds: what its code object says
            return build_profile(code_metrics(code), module=module, file=rt.file,
                                 has_source=True, index=None, counters=self.counters,
                                 threshold=self.threshold,
                                 static_words="static: not a def of its file (a lambda, or "
                                              "the file changed since it was loaded)")
        return build_profile(code_metrics(code), module=module,
                             file=None if code.co_filename.startswith("<") else rt.file,
                             has_source=False, index=None, counters=self.counters,
                             threshold=self.threshold,
                             static_words=f"static: no source ({code.co_filename}) to look "
                                          "for call sites")

    def native(self, item: Any, name: str) -> FunctionProfile:
        module, _, qualname = name.rpartition(":")
        empty = FunctionMetrics(qualname=qualname or name, name=qualname or name,
                                first_line=0, def_line=0, last_line=-1)
        return build_profile(empty, module=module, file=None, has_source=False, index=None,
                             counters=self.counters, threshold=self.threshold,
                             static_words="static: implemented in C, no Python code")


def _match(fm: FileMetrics, code: types.CodeType) -> FunctionMetrics | None:
    same_name = [f for f in fm.functions if f.qualname == code.co_qualname]
    for func in same_name:
        if func.first_line == code.co_firstlineno:
            return func
    return same_name[0] if len(same_name) == 1 and not code.co_name.startswith("<") else None


def _flatten(target: Any) -> list[Any]:
    if isinstance(target, list | tuple | set | frozenset):
        return [leaf for item in target for leaf in _flatten(item)]
    return [target]


def _is_thread(item: Any) -> bool:
    if isinstance(item, str):
        return item.strip().startswith("thread:")
    if isinstance(item, TargetSpec | ResolvedTarget):
        return item.kind == "thread"
    return isinstance(item, threading.Thread)


def target_kind(item: Any) -> str:
    if _is_thread(item):
        return "thread"
    if isinstance(item, str):
        return parse_target(item).kind
    if isinstance(item, TargetSpec | ResolvedTarget):
        return item.kind
    return "module" if isinstance(item, types.ModuleType) else "function"


def target_name(item: Any) -> str:
    if isinstance(item, str):
        return item.strip()
    if isinstance(item, threading.Thread):
        return f"thread:{item.name}"
    if isinstance(item, TargetSpec | ResolvedTarget):
        return str(item)
    if isinstance(item, types.ModuleType):
        return item.__name__
    inner = getattr(item, "__func__", getattr(item, "fget", item))
    qual = getattr(inner, "__qualname__", None) or getattr(inner, "__name__", None)
    mod = getattr(inner, "__module__", None)
    if isinstance(qual, str):
        return f"{mod}:{qual}" if isinstance(mod, str) else qual
    return repr(item)[:80]


@dataclass
class ResolvedItem:
    """One item of a target, resolved once (``load=False``) for everything that reads it."""

    item: Any
    kind: str  # target_kind(item)
    name: str  # target_name(item)
    units: list[ResolvedTarget] = field(default_factory=list)
    native: ScopelineError | None = None  # mode_unavailable: C code, no Python code to read


def resolve_items(target: Any, *, threads: bool = True) -> list[ResolvedItem]:
    """Each item of ``target`` with its resolved units; nothing of the user's is imported.
    ``threads=False`` leaves thread items unresolved (a thread that is not running is then
    no error: the analysis only notes it)."""
    items = _flatten(target)
    if not items:
        raise ScopelineError("target_invalid", "no target given (an empty list)",
                             suggestions=["Give a target such as 'pkg.mod:func'."])
    out = []
    for item in items:
        entry = ResolvedItem(item, target_kind(item), target_name(item))
        out.append(entry)
        if entry.kind == "thread" and not threads:
            continue
        try:
            entry.units = resolve(item, load=False)
        except ScopelineError as exc:
            if exc.code != "mode_unavailable":
                raise
            entry.native = exc
    return out


def analyze_target_complexity(target: Any, *, resolved: list[ResolvedItem] | None = None
                              ) -> TargetAnalysis:
    """Analyse every function ``target`` names (any form of INTERFACES §1, or a list).
    ``resolved``: ``resolve_items(target)`` if the caller has it already."""
    items = resolved if resolved is not None else resolve_items(target, threads=False)
    analyzer = _Analyzer()
    profiles: dict[tuple[Any, ...], FunctionProfile] = {}
    notes: list[str] = []
    for entry in items:
        if entry.kind == "thread":
            notes.append(f"{entry.name}: {THREAD_NOTE}")
            continue
        if entry.native is not None:
            profile = analyzer.native(entry.item, entry.name)  # C code: nothing to read
            profiles.setdefault(("native", profile.display), profile)
            notes.append(f"{entry.name}: {entry.native.message}")
            continue
        for rt in entry.units:
            profile = analyzer.unit(rt)
            if rt.kind == "line":
                notes.append(f"{entry.name}: the tracepoint's line {rt.line} is in "
                             f"{profile.display}")
            key = (profile.file, profile.qualname, profile.first_line)
            profiles.setdefault(key, profile)
    analyzer.cache.save()
    kind = items[0].kind if len(items) == 1 else "list"
    name = ", ".join(entry.name for entry in items)
    return summarize(name, kind, list(profiles.values()), notes)


def analysis_of_profile(target: Any, profile: FunctionProfile) -> TargetAnalysis:
    """The analysis of a one-function target whose profile the caller already has (the
    project listing's, with project-wide call frequency; the editor's, from unsaved text)."""
    return summarize(target_name(target), target_kind(target), [profile], [])


# --------------------------------------------------------------------------- compilation


def _injection_only(opts: TraceOptions, granularity: str | None) -> bool:
    return bool(opts.mode in ("compile_time", "hybrid") or opts.force_compile_time
                or granularity in ("expression", "variable") or opts.custom_injections
                or opts.conditional_compilation is not None)


def compilation_required(target: Any, options: Any = None) -> bool:
    """Does capturing what is asked on ``target`` need its source rewritten and compiled?

    Calls, returns, exceptions, lines and locals at lines are runtime hooks' work; sub-
    expressions, every assignment, custom statements and conditional compilation need
    injection. Without ``options`` the question is asked for the granularity the target's
    code calls for (see ``recommended_granularity``). A thread target needs none: it can
    only be traced at runtime. ``force_runtime`` means no compilation, by request.
    """
    if isinstance(options, TraceOptions):
        opts = options
    elif isinstance(options, dict):
        opts = parse_options(**options)
    elif options is None:
        opts = TraceOptions()
    else:
        raise ScopelineError("invalid_config", f"options must be TraceOptions or a dict, not "
                             f"{type(options).__name__}")
    if all(_is_thread(item) for item in _flatten(target)) or opts.force_runtime:
        return False
    granularity = opts.granularity
    if options is None:
        granularity = analyze_target_complexity(target).recommended_granularity
    return _injection_only(opts, granularity)
