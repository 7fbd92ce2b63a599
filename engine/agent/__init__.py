"""The agent: what Scopeline runs inside a debuggee launched by the debug adapter.

It connects back to the engine on loopback with the session's secret, places the tracepoints
the engine planned (runtime hooks), sends captured events back in batches, and brings debugpy
into the program only when an ordinary breakpoint needs it. Standard library only (debugpy is
imported on demand, when the user asks for ordinary debugging).
"""
