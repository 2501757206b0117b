"""Framework-free Python: plain httpx against the Ollama API; what the language itself costs."""
