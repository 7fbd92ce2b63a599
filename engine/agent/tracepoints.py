"""Tracepoints placed in the debuggee: runtime line hooks that never stop the program.

One hooked ``Unit`` per code object holds every tracepoint line of it; at a hit the probe
counts it, applies the hit condition and the (side-effect-free) condition, renders the log
message with the program's own values, and records one line event carrying the captured
locals and the message. The engine's runtime backend does the hooking (``sys.monitoring`` on
3.12+, code swapping with ``sys.settrace`` for lines on 3.11), so a program with tracepoints
runs at full speed outside the traced functions.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter_ns
from typing import Any

from scopeline.engine.errors import ScopelineError
from scopeline.engine.runtime.codeswap import Signature
from scopeline.engine.runtime.hooks import make_gate
from scopeline.engine.runtime.recorder import LINE, Limits, Recorder
from scopeline.engine.runtime.select import get_backend
from scopeline.engine.runtime.units import Unit
from scopeline.engine.saferepr import SafeRepr

from .safeexpr import Template, UnsafeExpression, check, parse_hit_condition, parse_template


@dataclass
class Tracepoint:
    """What the engine planned for one line (a DAP logpoint or ``#trace`` breakpoint)."""

    id: int
    file: str
    line: int
    message: str | None = None
    capture: tuple[str, ...] = ()
    hit_condition: str | None = None
    condition: str | None = None
    mode: str = "runtime"
    # filled when placed
    template: Template | None = None
    hit_test: Callable[[int], bool] | None = None
    condition_code: types.CodeType | None = None
    hits: Any = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Tracepoint:
        return cls(id=int(raw["id"]), file=os.path.abspath(raw["file"]), line=int(raw["line"]),
                   message=raw.get("message"), capture=tuple(raw.get("capture") or ()),
                   hit_condition=raw.get("hit_condition"), condition=raw.get("condition"),
                   mode=raw.get("mode", "runtime"))

    def compile(self) -> None:
        """Check and compile what runs at each hit; raises UnsafeExpression."""
        self.template = parse_template(self.message) if self.message else None
        self.hit_test = parse_hit_condition(self.hit_condition)
        self.condition_code = check(self.condition) if self.condition else None


def render(template: Template, recorder: Recorder, f_globals: dict[str, Any],
           f_locals: dict[str, Any]) -> str:
    out = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        try:
            value = eval(part[1], f_globals, f_locals)  # checked side-effect free
        except Exception as exc:
            out.append(f"<{type(exc).__name__}: {exc}>")
            continue
        out.append(value if type(value) is str and len(value) <= 200 else recorder.saferepr(
            value))
    return "".join(out)


class Placement:
    """The result for one tracepoint, as the engine reports it to the editor."""

    def __init__(self, tp: Tracepoint, verified: bool, message: str) -> None:
        self.tp, self.verified, self.message = tp, verified, message

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.tp.id, "verified": self.verified, "message": self.message,
                "line": self.tp.line}


class Tracepoints:
    """Every tracepoint of the debuggee, by file; placing a file's set replaces the old one."""

    def __init__(self, main_code: types.CodeType | None = None,
                 main_file: str | None = None) -> None:
        self.recorder = Recorder(Limits(max_events_per_second=1_000_000, buffer_size=500_000),
                                 SafeRepr(max_length=200, max_depth=3, max_items=10,
                                          timeout_ms=50))
        self.backend = get_backend()
        self.main_code = main_code
        self.main_file = main_file
        self.units: dict[str, list[Unit]] = {}  # file -> hooked units
        self.pending: list[Unit] = []  # 3.11: main-module functions not defined yet
        self.all_units: list[Unit] = []
        self.lock = threading.RLock()
        self.new_units: list[Unit] = []
        self.started = False  # the program's main module is running
        self.main_injected: types.CodeType | None = None  # what runs as __main__ instead
        self.swaps: dict[str, list[Any]] = {}  # file -> InjectedSwaps to undo
        self.watch: Any = None  # pending.ImportWatch, made when a file is not imported yet
        self.notify: Callable[[str], None] = lambda text: None  # to the editor's console

    # -- placing -------------------------------------------------------------------------------
    def set_file(self, file: str, raw: list[dict[str, Any]],
                 inject: dict[str, Any] | None = None) -> list[Placement]:
        """Place a file's tracepoints (replacing its old ones): as runtime hooks, or with
        ``inject`` (the engine's instrumented module code) as injected line probes."""
        file = os.path.abspath(file)
        with self.lock:
            self._clear_file(file)
            if self.watch is not None:
                self.watch.forget(file)
            if file != self.main_file and raw and not _imported(file):
                return self._when_imported(file, raw, inject)
            results: list[Placement] = []
            by_code: dict[types.CodeType, tuple[Any, list[Tracepoint]]] = {}
            for item in raw:
                tp = Tracepoint.from_dict(item)
                try:
                    tp.compile()
                    code, function, module = self._locate(tp)
                except (UnsafeExpression, ScopelineError) as exc:
                    results.append(Placement(tp, False, str(exc)))
                    continue
                by_code.setdefault(code, ((function, module), []))[1].append(tp)
            units = [self._unit(code, function, module, tps)
                     for code, ((function, module), tps) in by_code.items()]
            fallback = ""
            if inject and units:
                try:
                    results += self._inject(file, units, inject)
                    units = []
                except ScopelineError as exc:
                    fallback = f" — injection not possible here ({exc.message}): runtime hooks"
            placed: list[Unit] = []
            for unit in units:
                tps = [tp for group in unit.meta["tracepoints"] for tp in group]
                try:
                    self._hook(unit)
                except ScopelineError as exc:
                    results += [Placement(tp, False, str(exc)) for tp in tps]
                    continue
                placed.append(unit)
                how = ("sys.monitoring" if self.backend.name == "sys.monitoring"
                       else "code swap + sys.settrace")
                late = " (placed when the function is defined)" if unit in self.pending else ""
                results += [Placement(tp, True, f"⚡ runtime tracepoint in {unit.display} "
                                                f"({how}){late}{fallback}") for tp in tps]
            self.units[file] = placed + self.units.get(file, [])
            index = {int(item["id"]): n for n, item in enumerate(raw)}
            return sorted(results, key=lambda r: index.get(r.tp.id, 0))  # the request's order

    def _when_imported(self, file: str, raw: list[dict[str, Any]],
                       inject: dict[str, Any] | None) -> list[Placement]:
        """Checked now against the source; hooked once the program imports the file."""
        from scopeline.engine.targets import resolve

        from .pending import ImportWatch

        results, waiting = [], []
        for item in raw:
            tp = Tracepoint.from_dict(item)
            try:
                tp.compile()
                rt = resolve(f"{tp.file}:{tp.line}", load=False)[0]
            except (UnsafeExpression, ScopelineError) as exc:
                results.append(Placement(tp, False, str(exc)))
                continue
            waiting.append(item)
            kind = "🔬 compile-time" if inject else "⚡ runtime"
            results.append(Placement(tp, True, f"{kind} tracepoint in {rt.display}: placed "
                                               "when the program imports it"))
        if waiting:
            if self.watch is None:
                self.watch = ImportWatch()

            def place() -> None:
                for r in self.set_file(file, waiting, inject):
                    if not r.verified:
                        self.notify(f"tracepoint at {os.path.basename(file)}:{r.tp.line} not "
                                    f"placed after import: {r.message}")

            self.watch.watch(file, place)
        return results

    def _inject(self, file: str, units: list[Unit], inject: dict[str, Any]) -> list[Placement]:
        from . import injected

        probes = {line: unit.probe for unit in units for line in unit.lines or ()}

        def on_line(line: int, f_locals: dict[str, Any]) -> None:
            probe = probes.get(line)
            if probe is not None:
                probe(line, f_locals)

        module_code = injected.load(inject, on_line)
        if file == self.main_file and not self.started:
            self.main_injected = module_code  # the program runs the instrumented module
            how = "the program runs the instrumented module"
        else:
            functions = [unit.function or find_function(
                getattr(sys.modules.get(unit.module), "__dict__", {}), unit.code)
                for unit in units]
            if any(f is None for f in functions):
                raise ScopelineError("mode_unavailable", "a nested function, or a module not "
                                     "imported yet, has no function object to swap code on")
            self.swaps[file] = injected.swap_in(functions, module_code)  # type: ignore[arg-type]
            how = "code swapped in the running program"
        for unit in units:
            unit.meta["injected_tracepoint"] = True
        self.units[file] = units
        return [Placement(tp, True, f"🔬 compile-time tracepoint in {unit.display} (line "
                                    f"probe injected, original line numbers kept; {how})")
                for unit in units for group in unit.meta["tracepoints"] for tp in group]

    def _clear_file(self, file: str) -> None:
        for unit in self.units.pop(file, []):
            if not unit.meta.get("injected_tracepoint"):
                self._unhook(unit)
        for swap in reversed(self.swaps.pop(file, [])):
            swap.restore()
        if file == self.main_file and not self.started:
            self.main_injected = None

    def _locate(self, tp: Tracepoint) -> tuple[types.CodeType, Any, str]:
        from scopeline.engine.targets import resolve

        if self.main_code is not None and tp.file == self.main_file:
            code = innermost_code(self.main_code, tp.line)
            if code is None or code is self.main_code:
                raise ScopelineError("target_invalid", f"{os.path.basename(tp.file)}:{tp.line}"
                                     " is not inside a function",
                                     suggestions=["Put the tracepoint on a line inside a def."])
            main = sys.modules.get("__main__")
            function = find_function(getattr(main, "__dict__", {}), code)
            return code, function, "__main__"
        rt = resolve(f"{tp.file}:{tp.line}", load=False)[0]
        assert rt.code is not None
        return rt.code, rt.function, rt.module or "?"

    def _unit(self, code: types.CodeType, function: Any, module: str,
              tps: list[Tracepoint]) -> Unit:
        uid = len(self.all_units)
        unit = Unit(uid=uid, code=code, function=function, module=module,
                    qualname=code.co_qualname, file=os.path.abspath(code.co_filename),
                    first_line=code.co_firstlineno, argnames=Signature.of(code).all_names,
                    arity=code.co_argcount, calls=False,
                    lines=frozenset(tp.line for tp in tps))
        by_line: dict[int, list[Tracepoint]] = {}
        for tp in tps:
            by_line.setdefault(tp.line, []).append(tp)
        unit.probe = self._probe(unit, by_line)
        unit.meta["tracepoints"] = list(by_line.values())
        self.all_units.append(unit)
        self.new_units.append(unit)
        return unit

    def _probe(self, unit: Unit, by_line: dict[int, list[Tracepoint]]) -> Callable[..., None]:
        rec = self.recorder
        gate = make_gate(rec, rec.skipped_lines)
        append = rec.queue.append
        capture = rec.capture_mapping
        uid = unit.uid

        def globals_of() -> dict[str, Any]:
            func = unit.function
            if func is not None:
                return func.__globals__
            module = sys.modules.get(unit.module)
            return getattr(module, "__dict__", {})

        def probe(line: int, f_locals: dict[str, Any]) -> None:
            for tp in by_line.get(line, ()):
                hit(tp, line, f_locals)

        def hit(tp: Tracepoint, line: int, f_locals: dict[str, Any]) -> None:
            n = next(tp.hits)
            if tp.hit_test is not None and not tp.hit_test(n):
                return
            g = globals_of()
            if tp.condition_code is not None:
                try:
                    if not eval(tp.condition_code, g, f_locals):  # checked side-effect free
                        return
                except Exception:
                    return
            tid = gate()
            if tid is None:
                return
            extra: dict[str, Any] = {"tracepoint": tp.id, "hit": n}
            if tp.template is not None:
                extra["message"] = render(tp.template, rec, g, f_locals)
            append((LINE, uid, tid, perf_counter_ns(), line, capture(tp.capture, f_locals),
                    extra))

        return probe

    def _hook(self, unit: Unit) -> None:
        if self.backend.needs_function and unit.function is None:
            if unit.module == "__main__":
                self.pending.append(unit)  # hooked by bind() once the def has run
                return
            raise ScopelineError("mode_unavailable", f"{unit.display} is a nested function: "
                                 "Python 3.11 can hook it only through its enclosing function",
                                 suggestions=["Use Python 3.12+, or trace the enclosing "
                                              "function."])
        self.backend.add(unit, self.recorder)

    def _unhook(self, unit: Unit) -> None:
        if unit in self.pending:
            self.pending.remove(unit)
            return
        try:
            self.backend.remove(unit, self.recorder)
        except Exception:  # already gone with its code
            pass

    def bind(self, unit: Unit, function: types.FunctionType) -> None:
        """3.11: the main module just defined ``function``: hook it now."""
        with self.lock:
            if unit in self.pending:
                self.pending.remove(unit)
                unit.function = function
                self.backend.add(unit, self.recorder)

    def clear(self) -> None:
        """Remove every tracepoint: hooks off, the user's code back."""
        with self.lock:
            for file in list(self.units) + list(self.swaps):
                self._clear_file(file)
                if self.watch is not None:
                    self.watch.forget(file)

    # -- draining ------------------------------------------------------------------------------
    def pull(self, max_rows: int) -> dict[str, Any] | None:
        """A batch for the channel: rows, thread names, and units first seen."""
        rows = self.recorder.drain(max_rows)
        with self.lock:
            units, self.new_units = self.new_units, []
        if not rows and not units:
            return None
        names = self.recorder.thread_names
        threads = {str(r[2]): names.get(r[2], str(r[2])) for r in rows}
        from scopeline.engine.drain import unit_table

        table = unit_table(units)
        injected = {u.uid for u in units if u.meta.get("injected_tracepoint")}
        for row in table:
            if row["uid"] in injected:
                row["source"] = "ast"  # the hit came from an injected probe
        return {"rows": rows, "threads": threads, "units": table}


def _imported(file: str) -> bool:
    from scopeline.engine.targets_load import loaded_module_for

    return loaded_module_for(file) is not None


def innermost_code(code: types.CodeType, line: int) -> types.CodeType | None:
    """The innermost code object (function) of ``code`` whose lines include ``line``."""
    best = None
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            lines = [ln for _, _, ln in const.co_lines() if ln is not None]
            if lines and min(lines + [const.co_firstlineno]) <= line <= max(lines):
                best = innermost_code(const, line) or const
    if best is None and any(ln == line for _, _, ln in code.co_lines()):
        return code
    return best


def find_function(namespace: dict[str, Any], code: types.CodeType) -> Any:
    """The live function in ``namespace`` running ``code`` (or a stand-in of ours for it)."""
    from scopeline.engine.binder import functions_in  # standard library only
    from scopeline.engine.runtime.codeswap import original_code

    for func in functions_in(namespace):
        if original_code(func.__code__) is code:
            return func
    return None
