"""chainmark: an honest, rerunnable benchmark of LLM application frameworks.

Kept import-free on purpose: Python contestants import ``chainmark.contestants._protocol``,
and anything imported here would be charged to their memory and start-up figures.
"""

__version__ = "0.1.0"
