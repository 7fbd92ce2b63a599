"""The code the cost model's calibration measures (see ``calibration.py``). Not for users.

Every function comes in identical copies: ``*_base`` stays untraced and is the baseline of a
pair; each other copy gets one kind of capture. Line positions are used as offsets from
``co_firstlineno``, so changing a body means bumping ``calibration.CALIBRATION_VERSION``.
"""


def call_base(a, b):
    return a + b


def call_runtime(a, b):
    return a + b


def call_runtime_sampled(a, b):
    return a + b


def call_injected(a, b):
    return a + b


def call_injected_sampled(a, b):
    return a + b


# A function whose line capture is on but whose traced line (offset 2) never runs: what line
# capture costs a call before any line is captured.
def guard_base(a, b):
    if a is None:
        return 0
    return a + b


def guard_runtime(a, b):
    if a is None:
        return 0
    return a + b


# Offsets: 1 "acc = 0" (runs once a call), 4 "acc += i" (the hot line, n times a call).
# Lines executed per call: 3n + 4 (the for line runs n + 1 times).
def loop_base(n):
    acc = 0
    x = 1
    for i in range(n):
        acc += i
        x = x ^ i
    return acc + x


def loop_runtime_first(n):
    acc = 0
    x = 1
    for i in range(n):
        acc += i
        x = x ^ i
    return acc + x


def loop_runtime_1(n):
    acc = 0
    x = 1
    for i in range(n):
        acc += i
        x = x ^ i
    return acc + x


def loop_runtime_3(n):
    acc = 0
    x = 1
    for i in range(n):
        acc += i
        x = x ^ i
    return acc + x


def loop_injected_1(n):
    acc = 0
    x = 1
    for i in range(n):
        acc += i
        x = x ^ i
    return acc + x


def loop_injected_3(n):
    acc = 0
    x = 1
    for i in range(n):
        acc += i
        x = x ^ i
    return acc + x


def loop_runtime_sampled(n):
    acc = 0
    x = 1
    for i in range(n):
        acc += i
        x = x ^ i
    return acc + x


def loop_injected_sampled(n):
    acc = 0
    x = 1
    for i in range(n):
        acc += i
        x = x ^ i
    return acc + x
