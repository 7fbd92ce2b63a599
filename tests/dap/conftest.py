"""Fixtures for the debug adapter tests: a real adapter process, real debuggees."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from dap_client import DapClient


@pytest.fixture
def dap(isolated_store: Path) -> Iterator[DapClient]:
    client = DapClient(env=dict(os.environ))
    yield client
    client.close()


@pytest.fixture
def program(tmp_path: Path):
    """Write a debuggee: ``program(source) -> path``; lines are numbered as written."""
    def write(source: str, name: str = "prog.py") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source).lstrip("\n"))
        return str(path)

    return write
