"""The harness: starts backends, launches contestants, verifies and summarises results."""
