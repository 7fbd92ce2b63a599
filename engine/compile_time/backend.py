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
import types
from collections import defaultdict
from typing import Any

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

    def __init__(self) -> None:
        self.swaps: list[InjectedSwap] = []
        self.planned_modules: list[str] = []
        self.sites: list[dict[str, Any]] = []
        self.fallbacks: list[tuple[Unit, str]] = []
        # file -> instrumented module code: `scopeline run` executes the program's from here
        self.module_codes: dict[str, types.CodeType] = {}

    def install(self, units: list[Unit], recorder: Any, options: Any) -> list[Unit]:
        """Inject into every unit it can; returns the units that must fall back to runtime."""
        from scopeline.engine.instrument import InjectionPlan

        by_file: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            by_file[unit.file].append(unit)
        fallback: list[Unit] = []
        for file, group in by_file.items():
            try:
                source = read_source(group[0])
                plan = InjectionPlan(
                    functions=tuple(u.qualname for u in group),
                    granularity=options.granularity,
                    trace_lines=tuple(options.trace_lines) + tuple(
                        line for u in group for line in (u.lines or ())),
                    capture_locals=tuple(options.capture_locals),
                    custom_injections=tuple(tuple(c) for c in options.custom_injections))
                sites, unbound = self._instrumented(source, plan, file)
                uid_of = {u.qualname: u.uid for u in group}
                sitemap = {}
                for site in sites:
                    uid = uid_of.get(site.qualname, group[0].uid)
                    sitemap[site.site_id] = (uid, site.line)
                    self.sites.append({"site_id": site.site_id, "kind": site.kind,
                                       "qualname": site.qualname, "line": site.line,
                                       "detail": site.detail})
                code = bind_hooks(unbound, RecordingHooks(recorder, sitemap))
                self._load(group, code)
                for unit in group:
                    unit.meta["source"] = "ast"
            except ScopelineError as exc:
                for unit in group:
                    self.fallbacks.append((unit, f"{exc.code}: {exc.message}"))
                    recorder.note(f"{unit.display}: compile-time injection failed "
                                  f"({exc.code}: {exc.message}); falling back to runtime capture")
                fallback += group
        return fallback

    @staticmethod
    def _instrumented(source: str, plan: Any, file: str) -> tuple[list[Any], types.CodeType]:
        """Probe sites and the compiled module (hooks not bound), from the plan cache when
        this source was instrumented with this plan before (plan_cache_ttl_seconds)."""
        from scopeline.engine.compile_time.cache import PlanCache, cache_key
        from scopeline.engine.instrument import Site, instrument_source

        cache = PlanCache()
        key = cache_key(source + "\0" + file, dataclasses.asdict(plan))
        row = cache.get(key)
        if row is not None:
            sites = [Site(**{**s, "names": tuple(s["names"])}) for s in row["sites"]]
            return sites, PlanCache.code_of(row)
        instrumented = instrument_source(source, plan, filename=file)
        unbound = instrumented.compile(file, PLACEHOLDER)  # bound to itself: still unbound
        cache.put(key, instrumented.source, [dataclasses.asdict(s) for s in instrumented.sites],
                  unbound)
        return instrumented.sites, unbound

    def _load(self, group: list[Unit], code: types.CodeType) -> None:
        self.module_codes[group[0].file] = code
        if group[0].module == "__main__":
            return  # the program about to run: the runner executes the instrumented module
        holders: dict[int, types.FunctionType] = {}
        for unit in group:
            holder = live_holder(unit)
            if holder is not None:
                holders[id(holder)] = holder
        if not holders and group[0].module not in sys.modules:
            module_name = group[0].module
            import_hook.plan(module_name, lambda module, source, filename: code)
            self.planned_modules.append(module_name)
            return
        swaps = [prepare_swap(fn, code) for fn in holders.values()]  # all or nothing
        for swap in swaps:
            swap.install()
            self.swaps.append(swap)

    def uninstall(self) -> None:
        for swap in reversed(self.swaps):
            swap.restore()
        self.swaps.clear()
        for name in self.planned_modules:
            import_hook.unplan(name)
        self.planned_modules.clear()
