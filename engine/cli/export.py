"""``scopeline export ID --format chrome|otlp|json [-o FILE]``."""

from __future__ import annotations

import argparse
import json
import sys

from scopeline.engine.store import Store


def cmd_export(args: argparse.Namespace) -> int:
    store = Store()
    meta = store.find(args.session_id)
    events = list(store.events(meta["session_id"]))
    if args.format == "chrome":
        from scopeline.engine.exporters.chrome import to_chrome

        text = json.dumps(to_chrome(meta, events))
    elif args.format == "otlp":
        from scopeline.engine.exporters.otlp import otlp_json

        text = otlp_json(meta, events)
    else:
        text = json.dumps({"session": meta, "events": [e.to_dict() for e in events]}, indent=1)
    if args.output in (None, "-"):
        sys.stdout.write(text + "\n")
    else:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"{len(events)} events of session {meta['session_id'][:8]} written to "
              f"{args.output} ({args.format})", file=sys.stderr)
    return 0
