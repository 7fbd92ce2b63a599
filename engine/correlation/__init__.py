"""Correlation of runtime and injected events (and of messages between threads/tasks)."""
