"""Stored sessions in other tools' formats: Chrome trace (Perfetto, chrome://tracing), OTLP."""

from __future__ import annotations

FORMATS = ("chrome", "otlp", "json")
