"""The synthetic models' latency profiles (``profiles.json``, read by chainmark-server) and
their calibration against the real model on real Ollama (``calibrate``)."""
