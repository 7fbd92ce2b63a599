"""Hover latency on a session with 100,000 events.

``python bench/hover.py [--events N] [--warm W] [--no-protocol] [--json FILE]``

Traces a small fixture module line by line in this process until the stored session holds at
least N events (default 100,000), stops it, then times:

* re-read — ``Store.events`` over the whole session: what every hover would cost if the
  values were not indexed;
* index cold — the first hover through a fresh ``ValueIndex`` (reads every batch once);
* index warm — later hovers (median of W), which only look for new batch files;
* protocol cold / warm — the same hovers through ``scopeline serve`` and a real LSP client
  (pygls), from request to response: the first one builds the server's index.

Milliseconds of wall time. No assertions: the figures go in the report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

FIXTURE = '''def scale(price, factor):
    total = price * factor
    total = total + 1
    return total


def run(n):
    acc = 0
    for i in range(n):
        acc += scale(i, 2)
    return acc
'''
HOVER_LINE, HOVER_WORD = 2, "total"  # 1-based: `total = price * factor`


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def capture(folder: Path, events: int) -> tuple[str, Path]:
    """A stored session of ``scale`` traced line by line, with at least ``events`` events."""
    sys.path.insert(0, str(folder))
    path = folder / "hotloop.py"
    path.write_text(FIXTURE)
    import hotloop  # type: ignore[import-not-found]
    import scopeline

    # one call of scale: entry, three lines, exit
    with scopeline.trace("hotloop:scale", granularity="line") as session:
        hotloop.run(events // 5 + 1)
    return session.session_id, path


def position(path: Path) -> tuple[int, int]:
    text = path.read_text().splitlines()[HOVER_LINE - 1]
    return HOVER_LINE - 1, text.index(HOVER_WORD)


def bench_index(session_id: str, path: Path, warm: int) -> dict[str, float]:
    from scopeline.engine.store import Store
    from scopeline.lsp.hover import hover_markdown
    from scopeline.lsp.values import ValueIndex

    store = Store()
    t0 = time.perf_counter()
    count = sum(1 for _ in store.events(session_id))
    reread = time.perf_counter() - t0
    line, column = position(path)
    line_text = path.read_text().splitlines()[line]

    def hover(index: ValueIndex) -> str:
        fv = index.for_file(str(path))
        found = hover_markdown(fv, line + 1, line_text, column)
        assert found is not None
        return found[0]

    index = ValueIndex(store)
    t0 = time.perf_counter()
    hover(index)
    cold = time.perf_counter() - t0
    times = []
    for _ in range(warm):
        t0 = time.perf_counter()
        hover(index)
        times.append(time.perf_counter() - t0)
    return {"events": count, "reread_ms": _ms(reread), "index_cold_ms": _ms(cold),
            "index_warm_ms": _ms(statistics.median(times)),
            "index_warm_max_ms": _ms(max(times))}


async def bench_protocol(path: Path, warm: int) -> dict[str, float]:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("scopeline-bench", "1")

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(ls: object, params: object) -> None:  # not what is measured here
        pass

    await client.start_io(sys.executable, "-m", "scopeline.engine.cli.main", "serve")
    uri = path.as_uri()
    folder = path.parent.as_uri()
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=folder,
        workspace_folders=[types.WorkspaceFolder(uri=folder, name="bench")]))
    client.initialized(types.InitializedParams())
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=path.read_text())))
    line, column = position(path)
    params = types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(line, column))

    async def hover() -> None:
        found = await client.text_document_hover_async(params)
        assert found is not None and HOVER_WORD in found.contents.value

    t0 = time.perf_counter()
    await hover()
    cold = time.perf_counter() - t0
    times = []
    for _ in range(warm):
        t0 = time.perf_counter()
        await hover()
        times.append(time.perf_counter() - t0)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {"protocol_cold_ms": _ms(cold), "protocol_warm_ms": _ms(statistics.median(times))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--warm", type=int, default=50)
    parser.add_argument("--no-protocol", action="store_true")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scopeline-hover-") as tmp:
        folder = Path(tmp)
        os.environ["SCOPELINE_DATA_DIR"] = str(folder / "data")
        t0 = time.perf_counter()
        (folder / "src").mkdir()
        session_id, path = capture(folder / "src", args.events)
        captured = time.perf_counter() - t0
        out: dict[str, object] = {"python": sys.version.split()[0],
                                  "capture_s": round(captured, 2)}
        out.update(bench_index(session_id, path, args.warm))
        if not args.no_protocol:
            out.update(asyncio.run(bench_protocol(path, args.warm)))
    for key, value in out.items():
        print(f"{key:>20}: {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
