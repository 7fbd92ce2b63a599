"""Compile-time capture for a session: instrument the targets' modules, load the result.

For each source file with targets: rewrite it with the libcst instrumenter (cached by source
hash and plan), compile it with the session's recording hooks bound in, and swap the new code
into the live functions (or, for a module not imported yet, let the import hook run it). A
file that cannot be instrumented — no source, a syntax error, a refused custom statement —
does not fail the session: its targets fall back to runtime capture, and the session says so.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
import types
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scopeline.engine import config
from scopeline.engine.compile_time.importhook import import_hook
from scopeline.engine.compile_time.recording import RecordingHooks
from scopeline.engine.compile_time.swap import InjectedSwap, prepare_swap
from scopeline.engine.errors import ScopelineError
from scopeline.engine.instrument import PLACEHOLDER, bind_hooks
from scopeline.engine.runtime.units import Unit

NAME = "libcst injection"
REASON = ("the source is rewritten with libcst to record what runtime hooks cannot see "
          "cheaply (locals at chosen lines, every assignment, sub-expressions, custom "
          "statements); line numbers and tracebacks stay those of the original file.")


def read_source(unit: Unit) -> str:
    path = unit.file
    if not path or not os.path.isfile(path) or not path.endswith(".py"):
        raise ScopelineError("mode_unavailable", f"{unit.display} has no Python source file "
                             f"to rewrite ({path or 'built-in'})",
                             suggestions=["Trace it with mode='runtime': runtime hooks need no "
                                          "source."])
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def load_transformer(dotted: str) -> Any:
    """A libcst transformer class named 'pkg.mod.Name' or 'pkg.mod:Name'."""
    import importlib

    import libcst as cst

    module_name, _, attr = dotted.replace(":", ".").rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ScopelineError("invalid_config", f"custom transformation {dotted!r} cannot be "
                             f"loaded: {exc}",
                             suggestions=["Fix compile_time.instrumentation."
                                          "custom_transformations."]) from exc
    if not (isinstance(obj, type) and issubclass(obj, cst.CSTTransformer)):
        raise ScopelineError("invalid_config", f"custom transformation {dotted!r} is not a "
                             "libcst.CSTTransformer subclass")
    return obj


def live_holder(unit: Unit) -> types.FunctionType | None:
    """The function object whose code carries ``unit``: its own, or for a nested function the
    outermost enclosing function's (the nested code is a constant of it)."""
    if unit.function is not None:
        return unit.function
    module = sys.modules.get(unit.module)
    if module is None:
        return None
    outer = unit.qualname.split(".<locals>.")[0]
    obj: Any = module
    for part in outer.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    obj = getattr(obj, "__func__", obj)
    return obj if isinstance(obj, types.FunctionType) else None


class CompileTimeInjector:
    """Installs and removes one session's injected code."""

    def __init__(self, *, hybrid: bool = False) -> None:
        # Hybrid: the same functions carry runtime hooks too; injected code also probes entry
        # and exit, which the reader joins to the runtime half of each call.
        self.hybrid = hybrid
        self.swaps: list[InjectedSwap] = []
        self.planned_modules: list[str] = []
        self.sites: list[dict[str, Any]] = []
        self.fallbacks: list[tuple[Unit, str]] = []
        # file -> instrumented module code: `scopeline run` executes the program's from here
        self.module_codes: dict[str, types.CodeType] = {}
        self.recording_hooks: list[RecordingHooks] = []
        self.live = False  # injected code in place (possibly paused)

    def set_enabled(self, enabled: bool) -> None:
        """Pause or resume the injected probes without touching the code (runtime control)."""
        for hooks in self.recording_hooks:
            hooks.enabled = enabled

    def install(self, units: list[Unit], recorder: Any, options: Any, *,
                before_load: Any = None) -> list[Unit]:
        """Inject into every unit it can; returns the units that must fall back to runtime.
        ``before_load(group, module_code)`` runs once a file's code is compiled, before any
        function runs it."""
        by_file: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            by_file[unit.file].append(unit)
        jobs = list(by_file.items())
        if config.get_with_fallback("compile_time.compilation.parallel_compilation", False) \
                and len(jobs) > 1:
            with ThreadPoolExecutor(max_workers=min(4, len(jobs))) as pool:
                results = list(pool.map(lambda job: self._prepare(job[1], options), jobs))
        else:
            results = [self._prepare(group, options) for _, group in jobs]
        fallback: list[Unit] = []
        for (_, group), result in zip(jobs, results, strict=True):
            try:
                if isinstance(result, ScopelineError):
                    raise result
                sites, unbound = result
                hooks = RecordingHooks(recorder, self._sitemap(group, sites))
                self.recording_hooks.append(hooks)
                code = bind_hooks(unbound, hooks)
                self._load(group, code, before_load)
                for unit in group:
                    unit.meta["injected"] = True  # its records are keyed ast_key(uid)
            except ScopelineError as exc:
                for unit in group:
                    self.fallbacks.append((unit, f"{exc.code}: {exc.message}"))
                    recorder.note(f"{unit.display}: compile-time injection failed "
                                  f"({exc.code}: {exc.message}); falling back to runtime capture")
                fallback += group
        self.live = True
        return fallback

    @staticmethod
    def key_of(unit: Unit) -> str:
        """Injected records carry a key of their own (hybrid.ast_key), so a unit can be traced
        by both sources at once, or switch between them, and each event names its source."""
        from scopeline.engine.hybrid import ast_key

        return ast_key(unit.uid)

    def _prepare(self, group: list[Unit], options: Any) -> Any:
        """Rewrite and compile one file for its units; a ScopelineError is returned, not
        raised, so one file's failure never stops the others (worker threads included)."""
        from scopeline.engine.instrument import InjectionPlan

        try:
            source = read_source(group[0])
            targeted = config.get_with_fallback(
                "compile_time.compilation.enable_targeted_recompilation", True)
            plan = InjectionPlan(
                functions=tuple(u.qualname for u in group) if targeted else (),
                granularity=options.granularity or "function",
                trace_lines=tuple(options.trace_lines) + tuple(
                    line for u in group for line in (u.lines or ())),
                capture_locals=tuple(options.capture_locals),
                custom_injections=tuple(tuple(c) for c in options.custom_injections),
                # entry/exit probes too when calls are asked for (or hybrid joins on them)
                with_calls=(self.hybrid or bool({"calls", "returns"} & set(options.include)))
                and (options.granularity or "function") != "function")
            started = time.monotonic()
            result = self._instrumented(source, plan, group[0].file)
            budget = config.get_with_fallback("compile_time.compilation.recompile_timeout_ms",
                                              5000)
            elapsed_ms = (time.monotonic() - started) * 1000
            if budget and elapsed_ms > budget:
                raise ScopelineError("compilation_failed", f"instrumenting {group[0].file} took "
                                     f"{elapsed_ms:.0f} ms, over recompile_timeout_ms={budget}")
            return result
        except ScopelineError as exc:
            return exc

    def _sitemap(self, group: list[Unit], sites: list[Any]) -> dict[int, tuple[Any, ...]]:
        """Each probe site -> (unit id, original line, session-wide site id, its names)."""
        uid_of = {u.qualname: self.key_of(u) for u in group}
        sitemap = {}
        for site in sites:
            global_id = len(self.sites) + 1
            sitemap[site.site_id] = (uid_of.get(site.qualname, self.key_of(group[0])), site.line,
                                     global_id, tuple(site.names))
            self.sites.append({"site_id": global_id, "kind": site.kind,
                               "qualname": site.qualname, "line": site.line,
                               "detail": site.detail})
        return sitemap

    @staticmethod
    def _instrumented(source: str, plan: Any, file: str) -> tuple[list[Any], types.CodeType]:
        """Probe sites and the compiled module (hooks not bound), from the plan cache when
        this source was instrumented with this plan before (plan_cache_ttl_seconds)."""
        from scopeline.engine.compile_time.cache import PlanCache, cache_key
        from scopeline.engine.instrument import Site, instrument_source

        names = config.get_with_fallback("compile_time.instrumentation.custom_transformations",
                                          [])
        transformers = [load_transformer(name) for name in names]
        level = config.get_with_fallback("compile_time.instrumentation.optimization_level",
                                         "basic")
        cache = PlanCache()
        key = cache_key(source + "\0" + file, {**dataclasses.asdict(plan), "with": names})
        row = cache.get(key, honour_ttl=level != "aggressive") if level != "none" else None
        if row is not None:
            sites = [Site(**{**s, "names": tuple(s["names"])}) for s in row["sites"]]
            return sites, PlanCache.code_of(row)
        instrumented = instrument_source(source, plan, filename=file, transformers=transformers)
        unbound = instrumented.compile(file, PLACEHOLDER)  # bound to itself: still unbound
        if level != "none":
            cache.put(key, instrumented.source,
                      [dataclasses.asdict(s) for s in instrumented.sites], unbound)
        return instrumented.sites, unbound

    def _load(self, group: list[Unit], code: types.CodeType, before_load: Any = None) -> None:
        self.module_codes[group[0].file] = code
        if group[0].module == "__main__":
            if before_load is not None:
                before_load(group, code)
            return  # the program about to run: the runner executes the instrumented module
        holders: dict[int, types.FunctionType] = {}
        for unit in group:
            holder = live_holder(unit)
            if holder is not None:
                holders[id(holder)] = holder
        if not holders and group[0].module not in sys.modules:
            if before_load is not None:
                before_load(group, code)
            module_name = group[0].module
            import_hook.plan(module_name, lambda module, source, filename: code)
            self.planned_modules.append(module_name)
            return
        swaps = [prepare_swap(fn, code) for fn in holders.values()]  # all or nothing
        if before_load is not None:
            before_load(group, code)
        for swap in swaps:
            swap.install()
            self.swaps.append(swap)

    def uninstall(self) -> None:
        self.live = False
        self.recording_hooks.clear()
        for swap in reversed(self.swaps):
            swap.restore()
        self.swaps.clear()
        for name in self.planned_modules:
            import_hook.unplan(name)
        self.planned_modules.clear()
