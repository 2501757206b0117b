"""Backends every contestant talks to: the embedded LLM server and a Chroma server."""
