"""Scopeline DAP adapter (filled by the debug-adapter issue)."""
