"""Trace sessions: what one ``scopeline.trace()`` call installed, captured and stored."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from scopeline.engine.drain import Drain, unit_table
from scopeline.engine.errors import ScopelineError
from scopeline.engine.events import Event
from scopeline.engine.options import TraceOptions
from scopeline.engine.runtime.protocol import RuntimeBackend
from scopeline.engine.runtime.recorder import Recorder
from scopeline.engine.runtime.units import ThreadUnit, Unit
from scopeline.engine.store import Store


class TraceSession:
    """A live (or finished) trace. Also a context manager: leaving the block stops it."""

    def __init__(self, *, mode: str, mode_reason: str, targets: list[str], options: TraceOptions,
                 units: list[Unit], thread_units: list[ThreadUnit], recorder: Recorder,
                 backend: RuntimeBackend, store: Store) -> None:
        self.session_id = uuid.uuid4().hex
        self.mode = mode
        self.mode_reason = mode_reason
        self.targets = targets
        self.options = options
        self.started_at = time.time()
        self.stopped_at: float | None = None
        self.units = units
        self.thread_units = thread_units
        self.runtime_refs = [u.display for u in units] + [f"thread:{t.name}" for t in thread_units]
        self.compile_time_refs: list[str] = []
        self.status = "active"
        self.recorder = recorder
        self.backend = backend
        self.store = store
        self.drain = Drain(recorder, recorder.saferepr)
        # One clock pair turns the hooks' perf_counter readings into wall-clock time.
        self.clock = {"wall0": time.time_ns(), "perf0": time.perf_counter_ns()}
        self.batches = 0
        self.installed = False
        self.pending: list[Unit] = []
        self.skipped_units: list[Unit] = []
        self.injector: Any = None  # compile-time sessions: a CompileTimeInjector
        self.runtime_units: list[Unit] = list(units)
        # Runtime hooks kept after a mode switch until the session stops: frames already
        # running the code they sit on finish with their exit recorded (nothing lost).
        self.retired_units: list[Unit] = []
        self.lock = threading.RLock()
        self.timer: threading.Timer | None = None
        from scopeline.engine.autoswitch import Governor

        self.governor = Governor(self)
        from scopeline.engine import config

        # runtime.coordination.event_correlation_enabled: the reader joins a hybrid call's
        # two halves by exact keys; off, the correlator's scored strategies must join them
        self.exact_keys = bool(config.get_with_fallback(
            "runtime.coordination.event_correlation_enabled", True))
        self.last_capture = time.monotonic()

    # -- hooks on / off ------------------------------------------------------------------------
    @property
    def hybrid(self) -> bool:
        return self.mode == "hybrid"

    def install(self) -> None:
        with self.lock:
            if self.installed:
                return
            done: list[Any] = []
            self.pending = []
            self.skipped_units = []
            try:
                if self.injector is not None and self.injector.live:
                    # Paused under runtime control: the injected code stayed; switch it back on.
                    self.injector.set_enabled(True)
                    for unit in self.runtime_units:
                        self._add_runtime(unit, done)
                elif self.injector is not None:
                    self._install_injected(done)
                else:
                    for unit in self.runtime_units:
                        self._add_runtime(unit, done)
                for tunit in self.thread_units:
                    self.backend.add_thread(tunit, self.recorder)
                    done.append(tunit)
            except BaseException:
                # All or nothing: a target that cannot be hooked leaves no hook behind.
                for item in reversed(done):
                    self._remove_one(item)
                if self.injector is not None:
                    self.injector.uninstall()
                raise
            if "messages" in self.options.include:
                from scopeline.engine.correlation import messages

                messages.install(self)
            self.installed = True

    def _install_injected(self, done: list[Any], hooked: tuple[Unit, ...] = ()) -> None:
        """Inject where it can be; what cannot falls back to runtime hooks. Hybrid: runtime
        hooks go on the injected code *before* it is swapped in, so no call runs it unseen."""
        from scopeline.engine.hybrid import runtime_variants

        variants: list[Unit] = []

        def before_load(group: list[Unit], module_code: Any) -> None:
            for variant in runtime_variants(group, module_code, self.recorder):
                if self._add_runtime(variant, done):
                    variants.append(variant)

        fallback = self.injector.install(self.units, self.recorder, self.options,
                                         before_load=before_load if self.hybrid else None)
        for unit in fallback:
            if unit not in hooked:  # a mode switch: runtime hooks already on these
                self._add_runtime(unit, done)
        self.runtime_units = variants + fallback
        self.compile_time_refs = [u.display for u in self.units if u not in fallback]
        self.runtime_refs = [u.display for u in self.runtime_units] + [
            f"thread:{t.name}" for t in self.thread_units]

    def _add_runtime(self, unit: Unit, done: list[Any]) -> bool:
        """Put runtime hooks on one unit; False when it is pending or had to be skipped."""
        if getattr(self.backend, "needs_function", False) and unit.function is None:
            if "<locals>" not in unit.qualname:
                self.pending.append(unit)  # bound once the program defines it
                return False
            if unit.meta.get("from_module") or unit.meta.get("variant_of") is not None:
                self.recorder.note(f"{unit.display}: nested function skipped by runtime hooks "
                                   "(no function object to hook on Python 3.11)")
                self.skipped_units.append(unit)
                return False
        try:
            self.backend.add(unit, self.recorder)
        except ScopelineError as exc:
            # One function of a module that cannot be hooked (an async generator on 3.11,
            # say) must not cost the module's other functions.
            optional = unit.meta.get("from_module") or unit.meta.get("variant_of") is not None
            if not (optional and exc.code == "mode_unavailable"):
                raise
            self.recorder.note(f"{unit.display} skipped by runtime hooks: {exc.message}")
            self.skipped_units.append(unit)
            return False
        done.append(unit)
        return True

    def bind(self, unit: Unit, function: Any) -> None:
        """A pending unit's function now exists (3.11, main module): hook it."""
        with self.lock:
            if unit in self.pending:
                unit.function = function
                self.pending.remove(unit)
                if self.installed:
                    self.backend.add(unit, self.recorder)

    def _remove_one(self, item: Unit | ThreadUnit) -> None:
        if isinstance(item, ThreadUnit):
            self.backend.remove_thread(item, self.recorder)
        else:
            self.backend.remove(item, self.recorder)

    def uninstall(self, *, keep_injected: bool = False, keep_recording: bool = False) -> None:
        """Remove every hook; ``keep_injected`` (pause under runtime control) leaves injected
        code in place with its probes switched off (on, with ``keep_recording``). Runtime hooks
        go first: on 3.11 they wrap the injected code."""
        with self.lock:
            if not self.installed:
                return
            for item in [*self.runtime_units, *self.retired_units, *self.thread_units]:
                if item not in self.pending and item not in self.skipped_units:
                    self._remove_one(item)
            self.retired_units = []
            if self.injector is not None:
                if keep_injected:
                    self.injector.set_enabled(keep_recording)
                else:
                    self.injector.uninstall()
            from scopeline.engine.correlation import messages

            messages.uninstall(self)  # a no-op unless it captured messages
            self.installed = False

    # -- flushing --------------------------------------------------------------------------------
    def flush(self) -> int:
        """Move captured records into the store; returns how many events were written."""
        with self.lock:
            written = 0
            batch_size = max(1, self.batch_size)
            while True:
                records = self.recorder.drain(batch_size)
                if not records:
                    break
                batch = self.drain.encode(records)
                self.batches += 1
                self.store.append_batch(self.session_id, batch, self.batches)
                written += len(records)
            return written

    batch_size = 50_000

    # -- lifecycle ---------------------------------------------------------------------------------
    def stop(self) -> None:
        from scopeline.engine import api

        api.stop_trace(self)

    def pause(self) -> None:
        from scopeline.engine import api

        api.pause_trace(self.session_id)

    def resume(self) -> None:
        from scopeline.engine import api

        api.resume_trace(self.session_id)

    def events(self, type: str | None = None) -> Iterator[Event]:
        """Everything captured so far (flushes first), optionally of one event type."""
        if self.status in ("active", "paused"):
            self.flush()
        for event in self.store.events(self.session_id, self.to_meta()):
            if type is None or event.type == type:
                yield event

    def stats(self) -> dict[str, Any]:
        captured = {k: v for k, v in self.drain.counts.items()
                    if k not in ("suspend", "resume")}
        skipped_calls = self.recorder.skipped_counts()
        dropped = sum(skipped_calls.values())
        return {
            "captured": captured,
            "skipped_calls": skipped_calls,
            "skipped_lines": self.recorder.skipped_line_counts(),
            "dropped": {"function_entry": dropped, "function_exit": dropped},
            "effective_sampling_rate": self.recorder.rate,
            # recorded calls per function: what target analysis reads as measured frequency
            "calls": self.drain.call_counts({u.uid: u.display for u in self.units}),
        }

    def to_meta(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "mode": self.mode,
            "mode_reason": self.mode_reason,
            "backend": self.backend.name,
            "backend_reason": self.backend.reason,
            "targets": self.targets,
            "options": self.options.to_dict(),
            "started_at": self.started_at,
            "stopped_at": self.stopped_at,
            "runtime_refs": self.runtime_refs,
            "compile_time_refs": self.compile_time_refs,
            "status": self.status,
            "stats": self.stats(),
            "log": list(self.recorder.log),
            "units": unit_table(self.units),
            "clock": self.clock,
            "exact_keys": self.exact_keys,
            "sites": list(self.injector.sites) if self.injector is not None else [],
            "fallbacks": [{"target": u.display, "reason": why}
                          for u, why in self.injector.fallbacks] if self.injector else [],
        }

    def save(self) -> None:
        self.store.save_session(self.to_meta())

    def __enter__(self) -> TraceSession:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.status != "stopped":
            self.stop()

    def __repr__(self) -> str:
        return (f"<TraceSession {self.session_id[:8]} {self.mode} {self.status} "
                f"targets={self.targets}>")


def not_found(session_ref: Any, known: list[str]) -> ScopelineError:
    import difflib

    ref = getattr(session_ref, "session_id", session_ref)
    nearest = difflib.get_close_matches(str(ref), known, n=3, cutoff=0.3)
    return ScopelineError("session_not_found", f"no live session {ref!r}",
                          details={"nearest": nearest, "live": known},
                          suggestions=["scopeline.list_traces() lists the live sessions."])
