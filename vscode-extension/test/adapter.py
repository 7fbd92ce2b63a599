"""DebugClient starts its adapter as `RUNTIME EXECUTABLE`: this file is the executable."""
import runpy

runpy.run_module("scopeline.adapter", run_name="__main__")
