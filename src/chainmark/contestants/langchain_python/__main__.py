import sys

from chainmark.contestants._protocol import package_versions, run
from chainmark.contestants.langchain_python.scenarios import SCENARIOS


def frameworks() -> dict[str, str]:
    return package_versions(
        "langchain-core", "langchain-ollama", "langchain-classic", "langchain-community",
        "langchain-chroma", "langchain-text-splitters", "ollama", "httpx",
    )


sys.exit(run("langchain-python", SCENARIOS, frameworks))
