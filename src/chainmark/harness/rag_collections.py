"""Chroma collections the harness has each contestant fill before retrieval scenarios.

Each contestant fills its own collection with its own stack (stores differ in how they lay
out metadata), once per run, outside any timed region; the harness deletes them at the end.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

import httpx

from chainmark.contract import Endpoints
from chainmark.corpus import CorpusInfo
from chainmark.harness import expectations
from chainmark.harness.execute import execute
from chainmark.harness.plan import PlannedRun
from chainmark.harness.records import ScenarioRecord
from chainmark.harness.server_log import ServerLog
from chainmark.scenarios import PREPARE

MAX_NAME_CHARS = 63
HASH_CHARS = 10
COLLECTIONS_PATH = "/api/v2/tenants/default_tenant/databases/default_database/collections"


def collection_name(run_id: str, contestant: str, purpose: str) -> str:
    """A collection name unique to the run, the contestant and the purpose.

    Chroma allows 3-63 characters of [a-zA-Z0-9._-], starting and ending alphanumeric; a name
    that would be longer keeps its start and ends in a hash of the whole, so two long names
    never collapse into one.
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"cm-{run_id}-{contestant}-{purpose}")
    if len(name) > MAX_NAME_CHARS:
        digest = hashlib.sha256(name.encode()).hexdigest()[:HASH_CHARS]
        name = f"{name[:MAX_NAME_CHARS - HASH_CHARS - 1].rstrip('-._')}-{digest}"
    return name


def prepare(
    run: PlannedRun,
    endpoints: Endpoints,
    profile: str,
    work_dir: Path,
    server_log: ServerLog,
    corpus: CorpusInfo,
    collection: str,
) -> ScenarioRecord:
    params = {
        **PREPARE.params_for(profile),
        "corpus": expectations.corpus_params(corpus),
        "collection": collection,
    }
    prep_run = replace(run, scenario=PREPARE, params=params)
    truths = expectations.for_scenario(PREPARE, params, corpus, embed_dim=lambda: 0)
    return execute(prep_run, endpoints, profile, work_dir, server_log, truths)


def delete_collections(chroma_url: str, names: list[str]) -> list[str]:
    """Best effort; returns the names that could not be deleted."""
    left = []
    for name in names:
        try:
            response = httpx.delete(f"{chroma_url.rstrip('/')}{COLLECTIONS_PATH}/{name}",
                                    timeout=30)
            if response.status_code not in (200, 204, 404):
                left.append(name)
        except httpx.HTTPError:
            left.append(name)
    return left
