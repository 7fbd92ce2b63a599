"""``python -m scopeline.adapter``: the debug adapter on stdio."""

import sys

from .server import serve_stdio

sys.exit(serve_stdio())
