"""Contestants: one folder each, each a separate process behind the JSON contract."""
