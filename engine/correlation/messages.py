"""Queue messages between traced code: ``queue.Queue`` / ``asyncio.Queue`` put and get as events.

Runs inside the user's program, so: standard library only, and a program behaves exactly as
without it (same items, same order, same return values, same exceptions and tracebacks).

* **What is patched.** ``queue.Queue.put``/``get`` (``LifoQueue``, ``PriorityQueue`` and user
  subclasses inherit them; ``put_nowait``/``get_nowait`` call them) and
  ``asyncio.Queue.put_nowait``/``get_nowait`` (where ``put``/``get`` end up, also for the
  asyncio subclasses). ``queue.SimpleQueue`` is a C type whose methods cannot be replaced: not
  captured. Patched while at least one installed session has "messages" in ``include``
  (counted per session); the last one out puts the originals back.
* **Message ids.** Every put while patched gets an id, filed under the item's identity in a
  table per queue; the get that returns that very object takes its id back. Identity, not
  position, so priority and LIFO queues get exact ids too (the same object queued twice is
  indistinguishable by nature: its ids come back FIFO, or LIFO for a LIFO queue). The id is
  filed *before* the put so a consumer can never get the item first, and withdrawn if the put
  fails. Items are never touched or wrapped.
* **What is recorded, for which session.** A put/get is recorded for a session when a function
  that session traces is on the calling stack (the put/get runs inside a traced call, at any
  depth), or when the calling thread is one of its ``thread:`` targets. Untraced code's
  messages still get ids (so a traced receiver sees the real id) but make no events.
* **Records.** ``(MESSAGE_SEND|MESSAGE_RECEIVE, key, tid, t, line, message_id, queue, value,
  task, duration_ns)``; ``key`` names the function that called put/get, ``t`` is when the put
  started (so a send never comes after its receive) or when the get returned, ``duration_ns``
  how long the call took (time spent blocked on a full/empty queue).
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable
from time import perf_counter_ns
from types import FrameType
from typing import Any

from scopeline.engine.runtime.recorder import MESSAGE_RECEIVE, MESSAGE_SEND, Recorder

get_ident = threading.get_ident
_lock = threading.RLock()  # re-entrant: a __del__ run by GC in our section may put
_sinks: tuple[_Sink, ...] = ()  # read without the lock on the hot path (swapped whole)
_by_session: dict[str, _Sink] = {}
_patches: list[tuple[type, str, Any, Any]] = []  # (class, name, original, wrapper)
# id(queue) -> (weak ref to the queue, {id(item): ids of that object now in the queue})
_tables: dict[int, tuple[weakref.ref[Any], dict[int, deque[str]]]] = {}
_ids = itertools.count(1)
_prefix = f"m{os.getpid():x}-"
# Frames of these modules are the queue's own: the caller is the first frame outside them.
_INTERNAL = frozenset({"queue", "asyncio.queues", __name__})
_MAX_DEPTH = 256
# Comprehensions are frames of their own before 3.12 and inlined after: name the function
# they are written in, the same on every version.
_INLINED = frozenset({"<listcomp>", "<dictcomp>", "<setcomp>"})


def _new_prefix() -> None:  # a forked child numbers its messages apart from its parent
    global _prefix
    _prefix = f"m{os.getpid():x}-"


os.register_at_fork(after_in_child=_new_prefix)


class _Sink:
    """One session's view: what counts as traced code, and where its records go."""

    def __init__(self, session: Any) -> None:
        self.recorder: Recorder = session.recorder
        self.codes = frozenset((u.code.co_filename, u.code.co_qualname) for u in session.units)
        self.idents = {t.ident for t in session.thread_units if t.ident is not None}
        self.threads = [t.thread for t in session.thread_units
                        if isinstance(t.thread, threading.Thread)]

    def wants(self, tid: int, frames: list[tuple[str, str]]) -> bool:
        if tid in self.idents or any(t.ident == tid for t in self.threads):
            return True
        codes = self.codes
        return any(f in codes for f in frames)

    def record(self, kind: int, frame: FrameType, tid: int, t: int, mid: str | None,
               queue_name: str, item: Any, task: str | None, duration: int) -> None:
        rec = self.recorder
        if not rec.on:  # held back (memory limit): counted like any skipped event
            rec.skip(rec.off_reason)
            return
        if tid not in rec.thread_names and not rec.register_thread(tid):
            rec.skip("thread_limit")
            return
        if len(rec.queue) >= rec.capacity:
            rec.full(rec.skipped)
            return
        code = frame.f_code
        with _lock:  # dynamic_key numbers new names: one thread at a time
            key = rec.dynamic_key(code, frame.f_globals.get("__name__", "?"))
        rec.queue.append((kind, key, tid, t, frame.f_lineno, mid, queue_name,
                          rec.render_value(item), task, duration))


# -- install / uninstall (per session, counted) ------------------------------------------------
def install(session: Any) -> None:
    """Start recording ``session``'s messages; the first session in patches the queues."""
    global _sinks
    with _lock:
        _by_session[session.session_id] = _Sink(session)
        _sinks = tuple(_by_session.values())
        if not _patches:
            _patch()


def uninstall(session: Any) -> None:
    """Stop recording ``session``'s messages; the last session out restores the originals."""
    global _sinks
    with _lock:
        if _by_session.pop(session.session_id, None) is None:
            return
        _sinks = tuple(_by_session.values())
        if not _by_session:
            _unpatch()
            _tables.clear()


def installed() -> bool:
    """Are the queue classes patched now?"""
    return bool(_patches)


def _patch() -> None:
    import asyncio.queues
    import queue

    for cls, name, make in ((queue.Queue, "put", _wrap_put), (queue.Queue, "get", _wrap_get),
                            (asyncio.queues.Queue, "put_nowait", _wrap_put),
                            (asyncio.queues.Queue, "get_nowait", _wrap_get)):
        original = cls.__dict__[name]
        wrapper = make(original, asyncio_queue=cls is asyncio.queues.Queue)
        setattr(cls, name, wrapper)
        _patches.append((cls, name, original, wrapper))
    _lifo_types[:] = [queue.LifoQueue, asyncio.queues.LifoQueue]


def _unpatch() -> None:
    for cls, name, original, wrapper in reversed(_patches):
        if cls.__dict__.get(name) is wrapper:
            setattr(cls, name, original)
        # else someone wrapped ours since: leave theirs; ours passes straight through now
    _patches.clear()


# -- the wrappers ------------------------------------------------------------------------------
def _wrap_put(original: Callable[..., Any], *, asyncio_queue: bool) -> Callable[..., Any]:
    @functools.wraps(original)
    def put(self: Any, item: Any, *args: Any, **kwargs: Any) -> Any:
        if not _sinks:
            return original(self, item, *args, **kwargs)
        mid = _file_id(self, item)
        t0 = perf_counter_ns()
        try:
            result = original(self, item, *args, **kwargs)
        except BaseException as exc:
            _withdraw_id(self, item, mid)
            _trim(exc, put.__code__)
            raise
        _emit(MESSAGE_SEND, self, item, mid, t0, perf_counter_ns() - t0, asyncio_queue)
        return result

    return put


def _wrap_get(original: Callable[..., Any], *, asyncio_queue: bool) -> Callable[..., Any]:
    @functools.wraps(original)
    def get(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _sinks:
            return original(self, *args, **kwargs)
        t0 = perf_counter_ns()
        try:
            item = original(self, *args, **kwargs)
        except BaseException as exc:
            _trim(exc, get.__code__)
            raise
        t1 = perf_counter_ns()
        _emit(MESSAGE_RECEIVE, self, item, _take_id(self, item), t1, t1 - t0, asyncio_queue)
        return item

    return get


def _trim(exc: BaseException, code: Any) -> None:
    """Drop our frame from the traceback (re-raised with bare ``raise``, which adds none)."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is code:
        exc.__traceback__ = tb.tb_next


def _emit(kind: int, q: Any, item: Any, mid: str | None, t: int, duration: int,
          asyncio_queue: bool) -> None:
    try:
        frame: FrameType | None = sys._getframe(2)
        while frame is not None and (frame.f_globals.get("__name__") in _INTERNAL
                                     or frame.f_code.co_name in _INLINED):
            frame = frame.f_back
        if frame is None:
            return
        frames: list[tuple[str, str]] = []
        f: FrameType | None = frame
        while f is not None and len(frames) < _MAX_DEPTH:
            frames.append((f.f_code.co_filename, f.f_code.co_qualname))
            f = f.f_back
        tid = get_ident()
        wanting = [s for s in _sinks if s.wants(tid, frames)]
        if not wanting:
            return
        name = queue_name(q)
        task = _task_name() if asyncio_queue else None
        for sink in wanting:
            sink.record(kind, frame, tid, t, mid, name, item, task, duration)
    except Exception:  # capture must never raise into the user's program
        return


def queue_name(q: Any) -> str:
    """A stable name for a queue while it lives: ``queue.Queue@7f3a...``."""
    cls = type(q)
    module = "asyncio" if cls.__module__ == "asyncio.queues" else cls.__module__
    return f"{module}.{cls.__qualname__}@{id(q):x}"


def _task_name() -> str | None:
    import asyncio

    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running loop in this thread
        return None
    return task.get_name() if task is not None else None


# -- message ids, by the item's identity, per queue ---------------------------------------------
def _table(q: Any) -> dict[int, deque[str]] | None:
    key = id(q)
    entry = _tables.get(key)
    if entry is not None and entry[0]() is q:
        return entry[1]

    def forget(ref: weakref.ref[Any], key: int = key) -> None:
        current = _tables.get(key)
        if current is not None and current[0] is ref:
            _tables.pop(key, None)

    try:
        ref = weakref.ref(q, forget)
    except TypeError:  # a queue that cannot be weakly referenced: no ids for it
        return None
    table: dict[int, deque[str]] = {}
    _tables[key] = (ref, table)
    return table


def _file_id(q: Any, item: Any) -> str | None:
    with _lock:
        table = _table(q)
        if table is None:
            return None
        mid = f"{_prefix}{next(_ids)}"
        table.setdefault(id(item), deque()).append(mid)
        return mid


def _withdraw_id(q: Any, item: Any, mid: str | None) -> None:
    with _lock:
        entry = _tables.get(id(q))
        ids = entry[1].get(id(item)) if entry is not None else None
        if ids and mid in ids:
            ids.remove(mid)
            if not ids:
                del entry[1][id(item)]  # type: ignore[index]


def _take_id(q: Any, item: Any) -> str | None:
    with _lock:
        entry = _tables.get(id(q))
        if entry is None or entry[0]() is not q:
            return None  # put before capture started
        ids = entry[1].get(id(item))
        if not ids:
            return None
        mid = ids.pop() if _is_lifo(q) else ids.popleft()
        if not ids:
            del entry[1][id(item)]
        return mid


def _is_lifo(q: Any) -> bool:
    return any(isinstance(q, cls) for cls in _lifo_types)


_lifo_types: list[type] = []  # filled by _patch (the modules are imported by then)
