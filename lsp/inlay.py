"""Live values beside the code: inlay hints and inline values.

* ``textDocument/inlayHint``: after each traced line in the range, the latest values of the
  names written on it (``x = 3, total = 14``). VS Code asks again when the server sends
  ``workspace/inlayHint/refresh``, which ``ValueFeatures.events_changed`` does (debounced) as
  a running program's batches reach the store.
* ``textDocument/inlineValue``: VS Code asks only while a debug session is stopped. The
  answer comes from the latest captured call of the file (the stopped frame, when Scopeline
  traced it): a text value after each line that call ran, up to the stopped line, and on the
  stopped line a variable lookup for the captured names, which the debugger answers live.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .hover import WORD, hint_label, values_text
from .values import FileValues, Hit

if TYPE_CHECKING:
    from .hover import ValueFeatures

HINT_CHARS = 30  # per value in an inlay hint


def inlay_hints(fv: FileValues, lines: list[str], first: int, last: int
                ) -> list[types.InlayHint]:
    """Hints for 0-based lines ``first..last`` (inclusive)."""
    hints = []
    for number in range(max(first, 0), min(last, len(lines) - 1) + 1):
        record = fv.lines.get(number + 1)
        if record is None or not record.hits:
            continue
        label = hint_label(record, lines[number], HINT_CHARS)
        if label is None:
            continue
        hits = record.count
        hints.append(types.InlayHint(
            position=types.Position(number, len(lines[number])), label=label,
            padding_left=True,
            tooltip=f"captured by Scopeline: {hits} hit{'s' if hits != 1 else ''}, "
                    f"session {fv.session_id[:8]}"))
    return hints


def stopped_frame(fv: FileValues, first: int, last: int, stopped: int) -> dict[int, Hit] | None:
    """The newest captured call that ran the stopped line, else any line in the range
    (lines 1-based)."""
    frames = list(reversed(fv.frames.values()))
    for frame in frames:
        if stopped in frame:
            return frame
    for frame in frames:
        if any(first <= n <= last for n in frame):
            return frame
    return None


def inline_values(fv: FileValues, lines: list[str], first: int, last: int, stopped: int
                  ) -> list[types.InlineValue]:
    """Inline values for 0-based lines ``first..last``, stopped at 0-based ``stopped``."""
    frame = stopped_frame(fv, first + 1, last + 1, stopped + 1)
    if frame is None:
        return []
    out: list[types.InlineValue] = []
    for number in range(max(first, 0), min(last, stopped, len(lines) - 1) + 1):
        hit = frame.get(number + 1)
        if hit is None:
            continue
        text = lines[number]
        if number == stopped:  # the debugger has the live value here: ask it
            for match in WORD.finditer(text.split("#", 1)[0]):
                if match.group() in hit.values:
                    out.append(types.InlineValueVariableLookup(
                        range=types.Range(types.Position(number, match.start()),
                                          types.Position(number, match.end())),
                        case_sensitive_lookup=True, variable_name=match.group()))
            continue
        shown = values_text(hit.values, text, HINT_CHARS)
        if shown:
            end = types.Position(number, len(text))
            out.append(types.InlineValueText(range=types.Range(end, end), text=shown))
    return out


def register(server: Any, features: ValueFeatures) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))
    async def inlay_hint(ls: Any, params: types.InlayHintParams
                         ) -> list[types.InlayHint] | None:
        uri = params.text_document.uri
        text = features.text(uri, types.TEXT_DOCUMENT_INLAY_HINT)
        if text is None:
            return None
        rng = params.range

        def compute() -> list[types.InlayHint] | None:
            fv = features.file_values(uri)
            if fv is None:
                return []
            return inlay_hints(fv, text.splitlines(), rng.start.line, rng.end.line)

        return await features.off_loop(compute)

    @server.feature(types.TEXT_DOCUMENT_INLINE_VALUE)
    async def inline_value(ls: Any, params: types.InlineValueParams
                           ) -> list[types.InlineValue] | None:
        uri = params.text_document.uri
        text = features.text(uri, types.TEXT_DOCUMENT_INLINE_VALUE)
        if text is None:
            return None
        rng, stopped = params.range, params.context.stopped_location.start.line

        def compute() -> list[types.InlineValue]:
            fv = features.file_values(uri)
            if fv is None:
                return []
            return inline_values(fv, text.splitlines(), rng.start.line, rng.end.line, stopped)

        return await features.off_loop(compute)
