"""Bounded, never-raising, never-stalling ``repr`` for values captured inside users' programs.

Standard library only: this runs inside the traced program.  ``SafeRepr(value)`` always returns
a string of at most ``max_length`` characters.  When a value's ``__repr__`` misbehaves a
placeholder is returned instead:

* ``<repr failed: ValueError: msg>``  the ``__repr__`` raised (message bounded)
* ``<repr timed out: ClassName>``     it ran past ``timeout_ms``
* ``<recursive ClassName>``           it recursed until ``RecursionError``
* ``<ClassName object>``              repr disabled: ``__repr__ = None`` or ``disabled_types``
* ``<...>``                           a capture nested inside another safe repr (re-entrancy)

A type whose ``__repr__`` timed out or recursed without end is remembered (per instance,
bounded) and gets its placeholder again without its ``__repr__`` being called; one that raised
is tried again next time (it often fails only while its object is being built).
``KeyboardInterrupt`` is the one exception that propagates: it is the user's Ctrl-C, which
would have hit their program at this point anyway; swallowing it would make the program
impossible to interrupt.  ``SystemExit`` raised by a ``__repr__`` is swallowed: without us
that ``__repr__`` would not have run at all.
"""

from __future__ import annotations

import array
import reprlib
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from itertools import islice
from time import perf_counter
from types import BuiltinFunctionType, CodeType, FunctionType
from typing import Any

__all__ = ["SafeRepr", "in_safe_repr", "is_immutable_scalar", "safe_repr"]

NESTED = "<...>"
_PASSTHROUGH = (KeyboardInterrupt,)
_CACHE_SIZE = 256
_MSG_LENGTH = 80
_MAX_INT_BITS = 13_000  # ~3900 digits: under int_max_str_digits; decimal conversion stays cheap
_IMMUTABLE = frozenset({int, float, complex, bool, type(None), str, bytes, range})
# Builtin types whose C repr runs no user code.
_PLAIN = frozenset({float, complex, bool, type(None), range, slice, type(...)})
# C __repr__ implementations that cannot run user code: no deadline needed.
_LEAF_REPRS = frozenset(id(t.__repr__) for t in (object, type, FunctionType, BuiltinFunctionType,
                                                 CodeType))
_object_repr = object.__repr__
# type.__name__ read through the C descriptor: a metaclass cannot intercept it.
_type_name: Callable[[type], str] = type.__dict__["__name__"].__get__


class _Timeout(BaseException):
    """Raised by the watchdog; a BaseException so user ``except Exception`` misses it."""


class _State(threading.local):
    active = False
    deadline = 0.0

    def __init__(self) -> None:  # runs once per thread
        self.seen: set[int] = set()  # ids of the containers being rendered (cycle detection)


_state = _State()


def in_safe_repr() -> bool:
    """True while this thread is inside a ``SafeRepr`` call: capture hooks should then bail out."""
    return _state.active


def is_immutable_scalar(value: object) -> bool:
    """Exact immutable scalar types whose reference can be kept and rendered later.

    Tuples and frozensets are excluded: they may hold mutable objects.  Subclasses are excluded:
    they may add mutable state or a custom ``__repr__``.
    """
    return type(value) in _IMMUTABLE


def _fit(s: str, limit: int) -> str:
    """Cut the middle out of ``s`` so it is at most ``limit`` characters, like reprlib."""
    if len(s) <= limit:
        return s
    i = max(0, (limit - 3) // 2)
    j = max(0, limit - 3 - i)
    return s[:i] + "..." + s[len(s) - j:]


def _async_exc_api() -> Callable[..., int] | None:
    try:
        import ctypes

        return ctypes.pythonapi.PyThreadState_SetAsyncExc  # type: ignore[no-any-return]
    except (ImportError, AttributeError):  # not CPython: only elapsed time is measured
        return None


_set_async_exc = _async_exc_api()


class _Watchdog:
    """Interrupts a ``__repr__`` that runs past its deadline, from a thread of its own.

    A trace function would do it too, but switching one on and off costs ~10 µs on 3.12 and
    de-optimizes the whole program for a while; this costs a dict insert and delete.

    Why the async exception can never reach the user's program: the watchdog raises it only
    under the lock and only while the registration exists; ``release`` removes the
    registration under the same lock and then, if it fired, runs bytecode until a pending
    exception is delivered. Every moment between register and the end of ``release`` is inside
    ``_guarded``'s ``except _Timeout``, and ``release`` is idempotent, so a delivery at any
    point of it is caught there and the second ``release`` finds nothing pending.
    """

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.pending: dict[int, list[Any]] = {}  # thread ident -> [deadline, fired]
        self.thread: threading.Thread | None = None

    def register(self, ident: int, deadline: float) -> None:
        with self.cond:
            self.pending[ident] = [deadline, False]
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, daemon=True,
                                               name="scopeline-repr-watchdog")
                self.thread.start()
            self.cond.notify()

    def release(self, ident: int) -> None:
        with self.cond:
            entry = self.pending.pop(ident, None)
        if entry is not None and entry[1]:
            # Fired: the exception is delivered already, or pending, and then it arrives at
            # the first backward jump of this loop, inside _guarded's try. (Clearing it with
            # SetAsyncExc(NULL) instead leaves the eval breaker signalled for good: on 3.11
            # the next traced call then spins forever.)
            for _ in range(64):
                pass

    def _run(self) -> None:
        with self.cond:
            while True:
                if not self.pending:
                    self.cond.wait()  # idle: no wake-ups at all
                    continue
                now = perf_counter()
                waiting = [e[0] for e in self.pending.values() if not e[1]]
                if not waiting:
                    self.cond.wait()
                    continue
                earliest = min(waiting)
                if earliest > now:
                    self.cond.wait(earliest - now)
                    continue
                for ident, entry in self.pending.items():
                    if not entry[1] and entry[0] <= now and _set_async_exc is not None:
                        entry[1] = True
                        _set_async_exc(ctypes_ulong(ident), _TIMEOUT_OBJECT)


def ctypes_ulong(ident: int) -> Any:
    import ctypes

    return ctypes.c_ulong(ident)


def _timeout_object() -> Any:
    try:
        import ctypes

        return ctypes.py_object(_Timeout)
    except ImportError:
        return None


_TIMEOUT_OBJECT = _timeout_object()
_watchdog = _Watchdog()


def _guarded(func: Callable[[Any], str], arg: Any, deadline: float) -> str:
    """``func(arg)``, interrupted with ``_Timeout`` once ``deadline`` has passed."""
    if _set_async_exc is None:
        result = func(arg)
        if perf_counter() > deadline:
            raise _Timeout  # too late to interrupt, but the type is remembered as slow
        return result
    # A trace or profile function (a debugger's, or ours for line events on 3.11) would be
    # called for the __repr__'s frames, and an exception delivered inside it switches it off
    # for good: it sits out the guarded call instead.
    tracer, profiler = sys.gettrace(), sys.getprofile()
    if tracer is not None:
        sys.settrace(None)
    if profiler is not None:
        sys.setprofile(None)
    ident = threading.get_ident()
    _watchdog.register(ident, deadline)
    try:
        try:
            return func(arg)
        finally:
            _watchdog.release(ident)
    except _Timeout:
        _watchdog.release(ident)  # idempotent: whatever was pending is gone after this
        raise
    finally:
        if tracer is not None:
            sys.settrace(tracer)
        if profiler is not None:
            sys.setprofile(profiler)


class SafeRepr(reprlib.Repr):
    """Configured, thread-safe renderer: ``SafeRepr(max_length=200)(value) -> str``."""

    def __init__(self, max_length: int = 200, max_depth: int = 3, max_items: int = 10,
                 timeout_ms: float = 50, disabled_types: Iterable[type] = ()) -> None:
        if max_length < 8 or max_depth < 0 or max_items < 0 or timeout_ms <= 0:
            raise ValueError("SafeRepr needs max_length >= 8, max_depth >= 0, max_items >= 0, "
                             "timeout_ms > 0")
        super().__init__()  # 3.11's Repr.__init__ takes no keywords: set attributes below
        self.fillvalue = "..."
        self.maxlevel = max_depth
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = max_items
        self.maxfrozenset = self.maxdeque = self.maxarray = max_items
        self.maxstring = self.maxlong = self.maxother = max_length
        self.max_length = max_length
        self.timeout = timeout_ms / 1000.0
        self.disabled_types = frozenset(disabled_types)
        self._fast_len = max_length - 2  # a str/bytes this short has a repr that likely fits
        self._int_limit = 10 ** (max_length - 1)  # |int| below this has at most max_length chars
        self._failed: dict[type, str] = {}  # type -> placeholder, insertion-ordered, bounded
        # Dispatch on the exact type: reprlib dispatches on the type *name*, so a user class
        # called "dict" would be iterated by repr_dict and run its own methods unguarded.
        plain = self._repr_plain
        self._dispatch: dict[type, Callable[[Any, int], str]] = {t: plain for t in _PLAIN}
        self._dispatch.update({
            int: self.repr_int, str: self.repr_str, bytes: self.repr_str,
            bytearray: self.repr_str, tuple: self.repr_tuple, list: self.repr_list,
            dict: self.repr_dict, set: self.repr_set, frozenset: self.repr_frozenset,
            deque: self.repr_deque, array.array: self.repr_array,
        })

    def __call__(self, value: object) -> str:
        # Fast path: builtin scalars whose repr runs no user code and fits; no lock, no tracer.
        t = type(value)
        if t is int:
            if -self._int_limit < value < self._int_limit:  # type: ignore[operator]
                return repr(value)
        elif t is str or t is bytes:
            if len(value) <= self._fast_len:  # type: ignore[arg-type]
                s = repr(value)
                if len(s) <= self.max_length:
                    return s
        elif t is float or t is bool or value is None:
            s = repr(value)
            if len(s) <= self.max_length:
                return s
        return self._render(value)

    repr = __call__  # reprlib's public name, made safe too

    def failed_types(self) -> dict[type, str]:
        """Types currently short-circuited to a placeholder (a copy)."""
        return dict(self._failed)

    # -- slow path ---------------------------------------------------------------------------
    def _render(self, value: object) -> str:
        st = _state
        if st.active:  # a hook fired from inside a __repr__ we are running
            return NESTED
        st.active = True
        st.deadline = perf_counter() + self.timeout  # one budget for the whole value
        try:
            return _fit(self.repr1(value, self.maxlevel), self.max_length)
        except _PASSTHROUGH:
            raise
        except BaseException as exc:  # a bug of ours or a misbehaving container: still no raise
            try:
                return _fit(self._failure(exc, type(value)), self.max_length)
            except _PASSTHROUGH:
                raise
            except BaseException:
                return "<repr failed>"
        finally:
            st.active = False
            st.seen.clear()

    def repr1(self, x: Any, level: int) -> str:
        t = type(x)
        if t is int and -self._int_limit < x < self._int_limit:  # the most common element
            return repr(x)
        handler = self._dispatch.get(t)
        return self.repr_instance(x, level) if handler is None else handler(x, level)

    def _repr_plain(self, x: Any, level: int) -> str:
        return _fit(repr(x), self.maxother)

    def repr_int(self, x: int, level: int) -> str:
        bits = x.bit_length()
        if bits > _MAX_INT_BITS:  # decimal conversion is quadratic: don't do it for huge ints
            return f"<int with {bits} bits>"
        try:
            return super().repr_int(x, level)
        except ValueError:  # the user lowered sys.set_int_max_str_digits
            return f"<int with {bits} bits>"

    def _container(self, x: Any, level: int, items: Iterable[Any], left: str, right: str,
                   maxiter: int, render: Callable[[Any, int], str], trail: str = "") -> str:
        n = len(x)
        seen = _state.seen
        if level <= 0 or id(x) in seen:  # too deep, or a cycle: "[...]" like builtin repr
            return left + self.fillvalue + right
        seen.add(id(x))
        try:
            pieces: list[str] = []
            size = 0
            for item in islice(items, maxiter):  # exact builtin types: no user code iterates
                piece = render(item, level - 1)
                pieces.append(piece)
                size += len(piece) + 2
                if size > self.max_length:  # the rest would be cut anyway: stop rendering
                    break
        finally:
            seen.discard(id(x))
        if len(pieces) < n:
            pieces.append(self.fillvalue)
        if n == 1 and trail:
            right = trail + right
        return left + ", ".join(pieces) + right

    def _repr_iterable(self, x: Any, level: int, left: str, right: str, maxiter: int,
                       trail: str = "") -> str:
        if not len(x):
            return left + right
        return self._container(x, level, x, left, right, maxiter, self.repr1, trail)

    # Sets: unlike reprlib, no sorting (it calls user __lt__ and is O(n log n) on big sets).
    def repr_set(self, x: Any, level: int) -> str:
        return self._repr_iterable(x, level, "{", "}", self.maxset) if x else "set()"

    def repr_frozenset(self, x: Any, level: int) -> str:
        if not x:
            return "frozenset()"
        return self._repr_iterable(x, level, "frozenset({", "})", self.maxfrozenset)

    def repr_dict(self, x: dict[Any, Any], level: int) -> str:
        # Insertion order via items(): no sorting, no __hash__/__eq__ calls on user keys.
        if not x:
            return "{}"
        return self._container(x, level, x.items(), "{", "}", self.maxdict, self._repr_pair)

    def _repr_pair(self, item: tuple[Any, Any], level: int) -> str:
        return self.repr1(item[0], level) + ": " + self.repr1(item[1], level)

    def repr_instance(self, x: Any, level: int) -> str:
        cls = type(x)
        cached = self._failed.get(cls)
        if cached is not None:
            return cached
        name = _type_name(cls)
        rep = getattr(cls, "__repr__", None)
        if rep is None or cls in self.disabled_types:
            return f"<{name} object>"
        if rep is _object_repr:  # the default: short, without the module path
            return _fit(f"<{name} object at {id(x):#x}>", self.maxother)
        if id(rep) in _LEAF_REPRS:
            return _fit(repr(x), self.maxother)
        deadline = _state.deadline
        started = perf_counter()
        if started >= deadline:  # budget spent on earlier parts of this value: don't blame cls
            return f"<repr timed out: {name}>"
        try:
            s = _guarded(repr, x, deadline)
        except _PASSTHROUGH:
            raise
        except _Timeout:
            placeholder = f"<repr timed out: {name}>"
            if perf_counter() - started < self.timeout / 2:
                return placeholder  # mostly others' time: don't remember this type
        except BaseException as exc:
            placeholder = self._failure(exc, cls)
            if not isinstance(exc, RecursionError):
                # A repr that raises is cheap to try again, and often fails only for a while:
                # `self` captured on entry to __init__, before its attributes exist.
                return placeholder
        else:  # str.__str__: a str subclass must not run its own __len__/__getitem__ in _fit
            return _fit(str.__str__(s), self.maxother)
        self._remember(cls, placeholder)  # slow or runaway: not called again
        return placeholder

    def _failure(self, exc: BaseException, cls: type) -> str:
        if isinstance(exc, RecursionError):
            return f"<recursive {_type_name(cls)}>"
        try:  # str(exc) may run a user __str__: same protection, fresh short budget
            msg = _guarded(str, exc, perf_counter() + self.timeout)
        except _PASSTHROUGH:
            raise
        except BaseException:
            msg = "?"
        msg = _fit(msg, _MSG_LENGTH) if type(msg) is str else "?"
        kind = _type_name(type(exc))
        return f"<repr failed: {kind}: {msg}>" if msg else f"<repr failed: {kind}>"

    def _remember(self, cls: type, placeholder: str) -> None:
        failed = self._failed
        if len(failed) >= _CACHE_SIZE:
            try:  # drop the oldest; a race with another thread doing the same is harmless
                del failed[next(iter(failed))]
            except (KeyError, RuntimeError, StopIteration):
                pass
        failed[cls] = placeholder


safe_repr = SafeRepr()  # a default instance for callers without their own limits
