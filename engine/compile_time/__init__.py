"""Compile-time capture: loading instrumented code into a running process (issue 3)."""
