"""Independent re-implementations the harness verifies contestants against."""
