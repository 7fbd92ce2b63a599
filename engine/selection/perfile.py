"""Every function of one file with its recommended mode — what an editor shows as code lenses.

``decide_file(path, source=...)`` reads the text the editor holds (saved or not), measures
it (``textmetrics``: an edit re-reads only the statements it touched), profiles each def as
``determine_mode`` would for the target ``path:qualname`` (call frequency estimated within
the file, or measured by a session that traced it), and decides each with
``determine_mode(..., profile=...)``. What every decision shares — settings, calibration,
stored session counters — is read once per call. Nothing of the user's is imported or run,
and the same text and inputs always give the same list.
"""

from __future__ import annotations

import os
import tokenize
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.modes import ModeDecision
from scopeline.engine.options import TraceOptions, parse_options
from scopeline.engine.selection.analysis import (
    FunctionProfile,
    build_profile,
    complexity_threshold,
    has_python_source,
    module_index,
)
from scopeline.engine.selection.frequency import runtime_counters
from scopeline.engine.selection.metrics import FileMetrics
from scopeline.engine.selection.textmetrics import text_metrics
from scopeline.engine.targets_load import load_by_path


def _read(path: str) -> str:
    try:
        with tokenize.open(path) as fh:  # honours the file's coding cookie
            return fh.read()
    except FileNotFoundError as exc:
        raise ScopelineError("target_invalid", f"no such file: {path}",
                             details={"path": path},
                             suggestions=["Pass the editor's text as source=..., or save the "
                                          "file first."]) from exc
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:  # SyntaxError: a bad cookie
        raise ScopelineError("permission_denied", f"cannot read {path}: {exc}",
                             details={"path": path}) from exc


def _options(options: TraceOptions | dict[str, Any] | None) -> TraceOptions:
    if options is None:
        return parse_options()
    if isinstance(options, dict):
        return parse_options(**options)
    if isinstance(options, TraceOptions):
        return options
    raise ScopelineError("invalid_config", f"options must be TraceOptions or a dict, not "
                         f"{type(options).__name__}",
                         suggestions=["Pass trace() keywords as a dict, or TraceOptions."])


def file_profiles(path: str, source: str | None = None) -> list[FunctionProfile]:
    """Each def of ``path`` (its text: ``source``, else read from disk), profiled as
    ``analyze_target_complexity("path:qualname")`` profiles it, in source order."""
    path = os.path.abspath(path)
    text = _read(path) if source is None else source
    if not isinstance(text, str):
        raise ScopelineError("invalid_config", f"source must be str (the editor's text), "
                             f"not {type(text).__name__}")
    fm: FileMetrics = text_metrics(text, path)
    # the module name resolving "path:qualname" would give; nothing is imported
    module = load_by_path(path, load=False).name
    index, depths = module_index(fm)
    counters = runtime_counters()
    threshold = complexity_threshold()
    has_source = has_python_source(path)
    return [build_profile(func, module=module, file=path, has_source=has_source,
                          index=index, counters=counters, threshold=threshold,
                          dependency_depth=depths.get(func.qualname, 0))
            for func in fm.functions]


def decide_file(path: str, options: TraceOptions | dict[str, Any] | None = None, *,
                source: str | None = None, strategy: str = "combined"
                ) -> list[tuple[FunctionProfile, ModeDecision]]:
    """Every def of ``path`` with the mode ``determine_mode`` recommends for it, in source
    order. ``source``: the editor's text (unsaved edits included); None reads the file.

    A text that does not parse raises one ScopelineError("compilation_failed") naming the
    line. A function whose decision fails (no mode can trace it here) carries a decision
    with mode "unavailable", confidence 0 and the error's message as its reason, so one
    function never costs the others their lenses.
    """
    from scopeline.engine.selection.context import read_shared
    from scopeline.engine.selection.engine import determine_mode

    opts = _options(options)
    profiles = file_profiles(path, source)
    shared = read_shared()  # settings and feature flags: once for every decision of the file
    out = []
    for profile in profiles:
        target = f"{profile.file}:{profile.qualname}"
        try:
            decision = determine_mode(target, opts, strategy=strategy, profile=profile,
                                      shared=shared)
        except ScopelineError as exc:
            decision = ModeDecision("unavailable", 0.0, exc.message, strategy=strategy,
                                    warnings=list(exc.recovery_suggestions),
                                    evidence={"error": {"code": exc.code,
                                                        "message": exc.message}})
        out.append((profile, decision))
    return out
