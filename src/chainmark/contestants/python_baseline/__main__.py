import sys

from chainmark.contestants._protocol import package_versions, run
from chainmark.contestants.python_baseline.scenarios import SCENARIOS

sys.exit(run("python-baseline", SCENARIOS, package_versions("httpx")))
