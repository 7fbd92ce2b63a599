"""Scopeline engine: the domain (targets, events, sessions, config, runtime hooks, store)."""
