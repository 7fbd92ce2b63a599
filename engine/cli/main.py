"""``scopeline`` on the command line (INTERFACES §4). Errors: one line, non-zero exit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from scopeline.engine.errors import ScopelineError

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scopeline",
        description="Scopeline: a tracing debugger for Python. Tracepoints never stop the program.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    parser.add_argument("--data-dir", help="where sessions are stored (default: user data dir)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a program with tracing and print its trace tree",
                         usage="scopeline run [options] [-m MODULE | [--] script.py] [args ...]")
    run.add_argument("--trace", "-t", action="append", default=[], metavar="TARGET",
                     help="what to trace (repeatable): pkg.mod:func, file.py:42, thread:NAME; "
                          "default: every function of the program's main module")
    run.add_argument("--mode", default="auto",
                     choices=["auto", "runtime", "compile_time", "hybrid"])
    run.add_argument("--capture", default="", metavar="a,b",
                     help="local variables to capture at each line")
    run.add_argument("--granularity", default=None,
                     choices=["function", "line", "expression", "variable"])
    run.add_argument("--include", default="calls,returns,exceptions", metavar="KINDS",
                     help="event kinds: calls,returns,exceptions,lines (default: %(default)s)")
    run.add_argument("--sampling-rate", type=float, default=1.0)
    run.add_argument("--json", metavar="FILE", help="write the captured events as JSON")
    run.add_argument("--export", metavar="FILE.json",
                     help="write the session (metadata and events) as one JSON document")
    run.add_argument("--no-tree", action="store_true", help="do not print the trace tree")
    run.add_argument("-m", dest="module", metavar="MODULE", help="run a module, like python -m")
    run.add_argument("program", nargs=argparse.REMAINDER,
                     help="the script and its arguments (put -- before them)")

    sessions = sub.add_parser("sessions", help="list stored sessions")
    sessions.add_argument("--json", action="store_true")

    show = sub.add_parser("show", help="print one stored session's trace tree, or "
                                       "--instrumented TARGET: the rewritten function")
    show.add_argument("session_id", nargs="?",
                      help="a session id, a unique prefix of one, or 'latest'")
    show.add_argument("--json", action="store_true", help="print the events as JSON")
    show.add_argument("--instrumented", metavar="TARGET",
                      help="print TARGET's function as compile-time mode rewrites it")
    show.add_argument("--granularity", default="function",
                      choices=["function", "line", "expression", "variable"])
    show.add_argument("--capture", default="", metavar="a,b")
    show.add_argument("--lines", default="", metavar="N,M", help="lines to instrument")

    why = sub.add_parser("why", help="the mode decision for a target, without running "
                                     "anything; for a folder, a file.py or a package: every "
                                     "function with its recommended mode")
    why.add_argument("target", help="pkg.mod:func, file.py:LINE, thread:NAME, or a folder, "
                                    "file.py or package name for the project listing")
    why.add_argument("--granularity", default="function")
    why.add_argument("--capture", default="")
    why.add_argument("--env", choices=["dev", "test", "prod"])
    why.add_argument("--json", action="store_true")

    export = sub.add_parser("export", help="one stored session in another tool's format: "
                                           "chrome (Perfetto, chrome://tracing), otlp "
                                           "(OpenTelemetry, OTLP/JSON) or json")
    export.add_argument("session_id", help="a session id, a unique prefix of one, or 'latest'")
    export.add_argument("--format", choices=["chrome", "otlp", "json"], default="chrome")
    export.add_argument("-o", "--output", metavar="FILE", help="where to write (default: stdout)")

    sub.add_parser("demo", help="trace the bundled example program and print its trace tree")

    serve = sub.add_parser("serve", help="the engine for editors: LSP on stdio, DAP on "
                                         "loopback; logs go to a file, never stdout")
    serve.add_argument("--log-file", metavar="FILE",
                       help="where to log (default: DATA_DIR/logs/serve.log)")
    serve.add_argument("--log-level", default="INFO",
                       choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    serve.add_argument("--dap-port", type=int, default=0, metavar="N",
                       help="the debug adapter's loopback port (default: any free port, "
                            "printed on stderr and answered by scopeline/debugAdapter)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data_dir:
        import os

        os.environ["SCOPELINE_DATA_DIR"] = args.data_dir
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        from scopeline.engine import config
        from scopeline.engine.cli import commands

        config.load_config()  # [tool.scopeline] of the nearest pyproject.toml, checked

        if args.command == "serve":  # the editor side lives in scopeline.lsp
            from scopeline.lsp.serve import run as serve

            return serve(args)
        return int(getattr(commands, f"cmd_{args.command}")(args))
    except ScopelineError as exc:
        if args.debug:
            raise
        print(exc.one_line(), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an internal error: one line unless --debug
        if args.debug:
            raise
        err = ScopelineError("internal_error", f"{type(exc).__name__}: {exc}")
        print(err.one_line(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
