"""Real Ollama, built from the Go module proxy and run as a managed subprocess.

    from chainmark.backends.ollama import ollama_server
    with ollama_server(root, log_path) as server:   # root: run-private HOME + model store
        server.start()          # build if needed (cached), serve, import smollm2:135m, load it
        server.base_url         # http://127.0.0.1:PORT
        server.pids()           # ollama serve + its runner(s), alive now
"""

from chainmark.backends.ollama.build import (
    OLLAMA_VERSION,
    OllamaBuildError,
    binary_path,
    cached_binary,
    ollama_binary,
)
from chainmark.backends.ollama.modelfile import MODEL_NAME, modelfile
from chainmark.backends.ollama.process import (
    OllamaServer,
    group_pids,
    ollama_server,
    running_ollama,
    start_ollama,
)

__all__ = [
    "MODEL_NAME",
    "OLLAMA_VERSION",
    "OllamaBuildError",
    "OllamaServer",
    "binary_path",
    "cached_binary",
    "group_pids",
    "modelfile",
    "ollama_binary",
    "ollama_server",
    "running_ollama",
    "start_ollama",
]
