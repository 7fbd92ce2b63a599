"""Instrumentation results cached in tinydb, keyed by the source's hash and the plan.

What is stored is the rewritten source, its probe sites and the compiled module code *before*
the hooks are bound (marshal, base64): binding happens at load. Entries older than
``compile_time.compilation.plan_cache_ttl_seconds`` are ignored and replaced.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import marshal
import threading
import time
import types
from pathlib import Path
from typing import Any

from scopeline.engine import config
from scopeline.engine.store import AtomicJSONStorage, default_data_dir
from tinydb import Query, TinyDB

# Bumped whenever the transformers change what they emit: old cached rewrites are then unused.
INSTRUMENTER_VERSION = 4


def cache_key(source: str, plan: Any) -> str:
    # The bytecode's magic number is part of the key: a code object compiled by one Python
    # must never be loaded by another (3.12 running 3.11 bytecode crashes the interpreter).
    digest = hashlib.sha256(importlib.util.MAGIC_NUMBER)
    digest.update(f"instrumenter-{INSTRUMENTER_VERSION}".encode())  # what the rewrite does
    digest.update(source.encode("utf-8"))
    digest.update(json.dumps(plan, sort_keys=True, default=repr).encode("utf-8"))
    return digest.hexdigest()


def plan_store_path() -> Path:
    configured = config.get_with_fallback("compile_time.compilation.plan_storage_path", "")
    return Path(configured).expanduser() if configured else default_data_dir() / "plans"


# One database object per file in this process, used under one lock: tinydb keeps the next
# document id in the object, so two objects (parallel_compilation's workers) would collide.
_open: dict[str, TinyDB] = {}
_lock = threading.RLock()


def _database(path: Path) -> TinyDB:
    with _lock:
        db = _open.get(str(path))
        if db is None:
            db = _open[str(path)] = TinyDB(str(path), storage=AtomicJSONStorage)
        return db


class PlanCache:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or plan_store_path()
        self.db = _database(self.folder / "plans.json")

    def get(self, key: str, *, honour_ttl: bool = True) -> dict[str, Any] | None:
        with _lock:
            self.db.clear_cache()  # the file may have been written by another process
            rows = self.db.search(Query().key == key)
        if not rows:
            return None
        ttl = config.get_with_fallback("compile_time.compilation.plan_cache_ttl_seconds", 3600)
        if honour_ttl and ttl and time.time() - rows[0]["created"] > ttl:
            return None  # too old: the caller instruments again and replaces it
        return dict(rows[0])

    def put(self, key: str, source: str, sites: list[dict[str, Any]],
            code: types.CodeType) -> None:
        row = {"key": key, "created": time.time(), "source": source, "sites": sites,
               "code": base64.b64encode(marshal.dumps(code)).decode("ascii")}
        with _lock:
            try:
                self.db.upsert(row, Query().key == key)
            except ValueError:  # another process wrote the file meanwhile: a cache, skip it
                self.db.clear_cache()

    @staticmethod
    def code_of(row: dict[str, Any]) -> types.CodeType:
        return marshal.loads(base64.b64decode(row["code"]))
