"""A figure pooled over its interleaved rounds: one estimate per (scenario, contestant, model,
level) and metric, with an interval over the rounds, and the per-round values it came from.

Each round is one contestant process; its record summarises that round's operations. Rounds
are the unit of replication (drift and noise between them is what a verdict must survive),
so a figure's interval is a t-interval over its round means, never a bootstrap that treats
thousands of correlated operations as independent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from chainmark.harness.records import RunResults, ScenarioRecord, Status
from chainmark.scenarios import BY_NAME
from chainmark.stats import t975


@dataclass(frozen=True)
class Key:
    scenario: str
    contestant: str
    model: str
    # The concurrency level of a concurrent scenario's run, else None.
    level: int | None

    @property
    def case(self) -> tuple[str, str, int | None]:
        """What two contestants must share to be compared."""
        return (self.scenario, self.model, self.level)


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float | None
    high: float | None
    rounds: int
    # Per-round values (each round's mean of the metric), in round order.
    values: tuple[float, ...]
    method: str


@dataclass
class Group:
    key: Key
    records: list[ScenarioRecord] = field(default_factory=list)

    @property
    def passed(self) -> list[ScenarioRecord]:
        return [r for r in self.records if r.status is Status.PASSED]

    @property
    def all_passed(self) -> bool:
        return bool(self.records) and len(self.passed) == len(self.records)

    def round_values(self, metric: str) -> dict[int, float]:
        """Each passed round's mean of `metric`, by round."""
        return {r.round: r.metrics[metric].mean for r in self.passed if metric in r.metrics}

    def estimate(self, metric: str) -> Estimate | None:
        values = self.round_values(metric)
        if not values:
            return None
        data = np.asarray([values[k] for k in sorted(values)], dtype=float)
        if data.size >= 2:
            half = t975(data.size - 1) * float(data.std(ddof=1)) / np.sqrt(data.size)
            mean = float(data.mean())
            return Estimate(mean, mean - half, mean + half, int(data.size), tuple(data),
                            f"t over {data.size} rounds")
        # One round: its own interval over operations, when it has one.
        only = next(r for r in self.passed if metric in r.metrics).metrics[metric]
        interval = (only.ci95_low, only.ci95_high) if only.count >= 2 else (None, None)
        return Estimate(float(data[0]), *interval, 1, tuple(data),
                        f"1 round, bootstrap over {only.count} operations"
                        if only.count >= 2 else "1 round, 1 value")

    @property
    def primary_metric(self) -> str:
        scenario = BY_NAME.get(self.key.scenario)
        return scenario.primary_metric if scenario else "latency_s"


def key_of(record: ScenarioRecord) -> Key:
    scenario = BY_NAME.get(record.scenario)
    level = record.params.get("concurrency") if scenario and scenario.concurrent else None
    return Key(record.scenario, record.contestant, record.model, level)


def groups(results: RunResults | Iterable[ScenarioRecord]) -> list[Group]:
    """Records grouped by figure, in the order they first appear (not-implemented left out)."""
    records = results.records if isinstance(results, RunResults) else list(results)
    found: dict[Key, Group] = {}
    for record in records:
        if record.status is Status.NOT_IMPLEMENTED:
            continue
        key = key_of(record)
        found.setdefault(key, Group(key)).records.append(record)
    for group in found.values():
        group.records.sort(key=lambda r: r.round)
    return list(found.values())
