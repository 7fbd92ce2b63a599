"""Code lenses through the real protocol: a 5,000-line file, `scopeline serve` over stdio.

``python bench/lsp_lenses.py [--lines N] [--runs R] [--edits E] [--json FILE]``

The file is ``lenses_source.generate`` (as ``bench/lenses.py`` uses). Each run starts a fresh
``scopeline serve`` (the calibration already on disk, its analysis caches empty), a pygls
client with VS Code's capabilities, and times, in wall-clock milliseconds as the editor sees
them (request sent → response read):

* open → lenses — ``didOpen`` then the first ``textDocument/codeLens`` (the server decides
  every function of the file; the first time ever, libcst reads the whole file);
* reopen → lenses — the same in a second fresh server on the same data dir: the editor
  restarted on a file Scopeline has seen (the engine's per-file metrics cache on disk);
* lenses again — the text unchanged (median of E requests);
* edit → lenses — an incremental ``didChange`` (one line added at the end of a different
  function each time, the edits adding up as typing does) then ``codeLens`` (median of E);
* why — ``scopeline/explainMode`` for a function (median of E).

Each figure is the median over R runs. No thresholds: a figure to read, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

BENCH = Path(__file__).resolve().parent


def capabilities() -> types.ClientCapabilities:
    try:
        from pytest_lsp import client_capabilities

        return client_capabilities("visual-studio-code")
    except ImportError:  # a venv without the test extras: the parts lenses depend on
        return types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
            code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=True)))


async def one_run(source: Path, edits: int, env: dict[str, str]) -> dict[str, float]:
    client = LanguageClient("bench", "1")
    await client.start_io(sys.executable, "-m", "scopeline.engine.cli.main", "serve",
                          "--log-file", str(source.parent / "serve.log"), env=env)
    uri = source.as_uri()
    await client.initialize_async(types.InitializeParams(
        capabilities=capabilities(), process_id=os.getpid(), root_uri=source.parent.as_uri()))
    client.initialized(types.InitializedParams())
    text = source.read_text()
    ident = types.TextDocumentIdentifier(uri)

    t0 = time.perf_counter()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(ident))
    first = time.perf_counter() - t0

    again = []
    for _ in range(edits):
        t0 = time.perf_counter()
        await client.text_document_code_lens_async(types.CodeLensParams(ident))
        again.append(time.perf_counter() - t0)

    after_edit = []
    lines = text.splitlines()
    for i in range(edits):
        # the end of a function body: the line just above a lens further down the file
        starts = sorted({lens.range.start.line for lens in lenses})
        at = starts[(i * 37) % (len(starts) - 1) + 1] - 1
        while at > 0 and not lines[at].strip():
            at -= 1
        indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())] or "    "
        new_line = f"{indent}_edit_{i} = {i}\n"
        lines.insert(at + 1, new_line.rstrip("\n"))
        pos = types.Position(at + 1, 0)
        t0 = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
            [types.TextDocumentContentChangePartial(range=types.Range(pos, pos),
                                                    text=new_line)]))
        lenses = await client.text_document_code_lens_async(types.CodeLensParams(ident))
        after_edit.append(time.perf_counter() - t0)

    why = []
    for i in range(edits):
        line = lenses[(i * 74) % len(lenses)].command.arguments[0]["line"]
        t0 = time.perf_counter()
        await client.protocol.send_request_async("scopeline/explainMode",
                                                 {"uri": uri, "line": line})
        why.append(time.perf_counter() - t0)

    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {"open_to_lenses": first, "lenses_again": statistics.median(again),
            "edit_to_lenses": statistics.median(after_edit), "why": statistics.median(why),
            "lenses": len(lenses)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--edits", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    sys.path.insert(0, str(BENCH))
    from lenses_source import generate

    folder = Path(tempfile.mkdtemp(prefix="scopeline-lsp-lenses-"))
    source = folder / "orders_generated.py"
    source.write_text(generate(args.lines))
    env = {**os.environ, "SCOPELINE_DATA_DIR": str(folder / "data")}
    subprocess.run([sys.executable, "-c", "from scopeline.engine.selection.costmodel import "
                    "calibrate; calibrate()"], env=env, check=True)
    runs = []
    for run in range(args.runs):
        data = folder / f"data-{run}"  # fresh per run: the analysis caches start empty
        data.mkdir()
        (data / "calibration.json").write_bytes((folder / "data" / "calibration.json")
                                                .read_bytes())
        run_env = {**env, "SCOPELINE_DATA_DIR": str(data)}
        result = asyncio.run(one_run(source, args.edits, run_env))
        result["reopen_to_lenses"] = asyncio.run(one_run(source, 1, run_env))["open_to_lenses"]
        runs.append(result)
    keys = ("open_to_lenses", "reopen_to_lenses", "lenses_again", "edit_to_lenses", "why")
    median = {k: round(statistics.median(r[k] for r in runs) * 1000, 1) for k in keys}
    n_lines = len(source.read_text().splitlines())
    print(f"Python {sys.version.split()[0]} · LSP over stdio · {n_lines:,} lines, "
          f"{runs[0]['lenses']} lenses · median of {args.runs} fresh servers")
    print(f"  open → lenses {median['open_to_lenses']:>8,.1f} ms (first time)   reopen → "
          f"lenses {median['reopen_to_lenses']:>6,.1f} ms")
    print(f"  lenses again "
          f"{median['lenses_again']:>6,.1f} ms   edit → lenses {median['edit_to_lenses']:>6,.1f}"
          f" ms   why {median['why']:>6,.1f} ms")
    if args.json:
        args.json.write_text(json.dumps({"python": sys.version.split()[0], "lines": n_lines,
                                         "median_ms": median, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
