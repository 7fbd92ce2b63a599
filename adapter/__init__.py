"""The debug adapter: DAP toward the editor, debugpy behind it, tracepoints to the agent.

``python -m scopeline.adapter`` speaks DAP on stdio (VS Code's ``DebugAdapterExecutable``);
``scopeline serve`` runs the same adapter on a loopback TCP port beside the LSP server.
"""
