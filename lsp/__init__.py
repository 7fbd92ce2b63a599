"""Scopeline LSP server (filled by the editor issue)."""
