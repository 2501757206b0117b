import sys

from chainmark.contestants._protocol import package_versions, run
from chainmark.contestants.python_baseline.scenarios import SCENARIOS

sys.exit(run("python-baseline", SCENARIOS, lambda: package_versions("httpx")))
